import type { Connections } from "./connections.js";
import type { Statements } from "./statements.js";

/**
 * `Store.admitQueued`: in one transaction that holds the key's advisory lock first, so that
 * admissions of one key, from any process, take turns (see `lockLimitKey` in statements.ts).
 */
export async function admitQueued(
  db: Connections,
  sql: Statements,
  limitKey: string,
  limit: number,
): Promise<string[]> {
  db.open();
  const { rows } = await db.track(
    db.transaction(async (client) => {
      await client.query(sql.lockLimitKey, [limitKey]);
      return client.query<{ handler_id: string }>(sql.admitQueued, [limitKey, limit]);
    }),
  );
  return rows.map((r) => r.handler_id);
}

/** `Store.queuePosition`. */
export async function queuePosition(
  db: Connections,
  sql: Statements,
  handlerId: string,
): Promise<number | null> {
  const { rows } = await db.query<{ n: number }>(sql.queuePosition, [handlerId]);
  return rows[0]?.n || null;
}

/** `Store.queuedKeys`. */
export async function queuedKeys(db: Connections, sql: Statements, limit: number): Promise<string[]> {
  const { rows } = await db.query<{ limit_key: string }>(sql.queuedKeys, [limit]);
  return rows.map((r) => r.limit_key);
}
