import type { ScheduleClaim, ScheduleRow } from "../store.js";
import type { Connections } from "./connections.js";
import { quoteIdent } from "./migrations.js";

/** The SQL of the schedules table (migration 7), with the schema's tables qualified. */
export function scheduleStatements(schema: string) {
  const s = quoteIdent(schema);
  return {
    /**
     * One statement, hence one transaction: the row takes a later fire time (a race's losers match
     * no row), and only then the handler (with no state: its run is yet to start) and its start
     * event are inserted. An existing handler is left as it is.
     */
    claim: `
      WITH c AS (
        INSERT INTO ${s}.schedules AS cur (schedule_id, last_fire_at, last_handler_id)
        VALUES ($1, $2::bigint, $3)
        ON CONFLICT (schedule_id) DO UPDATE SET
          last_fire_at = excluded.last_fire_at, last_handler_id = excluded.last_handler_id
        WHERE cur.last_fire_at < excluded.last_fire_at
        RETURNING 1
      ),
      h AS (
        INSERT INTO ${s}.handlers (handler_id, workflow_name, run_id, status, result, error, started_at,
                                   updated_at, completed_at, workflow_version, schedule_id)
        SELECT $3, $4, $5, 'running', 'null'::json, NULL, $6, $6, NULL, $7, $1
        WHERE $3::text IS NOT NULL AND EXISTS (SELECT 1 FROM c)
        ON CONFLICT (handler_id) DO NOTHING
        RETURNING 1
      ),
      e AS (
        INSERT INTO ${s}.start_events (handler_id, event)
        SELECT $3, $8::json WHERE $8::text IS NOT NULL AND EXISTS (SELECT 1 FROM h)
        RETURNING 1
      )
      SELECT EXISTS (SELECT 1 FROM c) AS claimed, (SELECT count(*) FROM e)::int AS starts`,
    list: `
      SELECT schedule_id, last_fire_at::text AS last_fire_at, last_handler_id FROM ${s}.schedules
      WHERE schedule_id = ANY($1::text[])`,
  };
}

export type ScheduleStatements = ReturnType<typeof scheduleStatements>;

/** See `Store.claimScheduleFire`. */
export async function claimFire(
  db: Connections,
  sql: ScheduleStatements,
  claim: ScheduleClaim,
): Promise<boolean> {
  const h = claim.handler;
  const { rows } = await db.query<{ claimed: boolean }>(sql.claim, [
    claim.scheduleId,
    String(claim.fireAt),
    h?.handlerId ?? null,
    h?.workflowName ?? null,
    h?.runId ?? null,
    h?.startedAt ?? null,
    h?.workflowVersion ?? null,
    h ? claim.startEvent : null,
  ]);
  return rows[0]?.claimed === true;
}

/** See `Store.listSchedules`. */
export async function listRows(
  db: Connections,
  sql: ScheduleStatements,
  scheduleIds: readonly string[],
): Promise<ScheduleRow[]> {
  const { rows } = await db.query<{
    schedule_id: string;
    last_fire_at: string;
    last_handler_id: string | null;
  }>(sql.list, [[...scheduleIds]]);
  return rows.map((r) => ({
    scheduleId: r.schedule_id,
    lastFireAt: Number(r.last_fire_at),
    lastHandlerId: r.last_handler_id,
  }));
}
