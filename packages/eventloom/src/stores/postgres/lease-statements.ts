import type { Tables } from "./tables.js";

// The statements of leases (which process runs a handler) and of run limits' queues: part of the
// store's statements (statements.ts), with the same qualified tables.

/** Renders a timestamptz as ISO 8601 UTC with milliseconds, whatever the session's time zone. */
const iso = (column: string) => `to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;

export function leaseStatements(t: Tables) {
  return {
    /**
     * Takes the lease when it is free, expired or already ours. Under a race the losers wait for the
     * winner's row lock, then re-check the WHERE against its new, live lease, and get no row.
     */
    acquireLease: `
      INSERT INTO ${t.leases} AS l (handler_id, owner, token, expires_at)
      SELECT x.handler_id, $2, nextval(${t.tokenSequence}), now() + $3::bigint * interval '1 millisecond'
      FROM unnest($1::text[]) AS x(handler_id)
      ORDER BY x.handler_id
      ON CONFLICT (handler_id) DO UPDATE SET
        owner = excluded.owner, token = excluded.token, expires_at = excluded.expires_at
      WHERE l.expires_at <= now() OR l.owner = excluded.owner
      RETURNING handler_id, owner, token::text AS token, ${iso("expires_at")} AS expires_at`,

    renewLeases: `
      UPDATE ${t.leases} SET expires_at = now() + $3::bigint * interval '1 millisecond'
      WHERE owner = $1 AND handler_id = ANY($2::text[])
      RETURNING handler_id`,

    releaseLease: `DELETE FROM ${t.leases} WHERE handler_id = $1 AND owner = $2`,

    getLease: `
      SELECT handler_id, owner, token::text AS token, ${iso("expires_at")} AS expires_at
      FROM ${t.leases} WHERE handler_id = $1`,

    // Run limits. Admissions of one key take turns under a transaction-scoped advisory lock (in a
    // namespace of their own, 7017), so each counts what the one before it committed.
    lockLimitKey: "SELECT pg_advisory_xact_lock(7017, hashtext($1))",
    admitQueued: `
      WITH free AS (
        SELECT greatest($2::int - count(*)::int, 0) AS n FROM ${t.handlers}
        WHERE limit_key = $1 AND status = 'running' AND NOT queued
      ), next AS (
        SELECT handler_id FROM ${t.handlers}
        WHERE limit_key = $1 AND status = 'running' AND queued
        ORDER BY started_at, handler_id LIMIT (SELECT n FROM free) FOR UPDATE
      ), admitted AS (
        UPDATE ${t.handlers} h SET queued = false FROM next WHERE h.handler_id = next.handler_id
        RETURNING h.handler_id, h.started_at
      )
      SELECT handler_id FROM admitted ORDER BY started_at, handler_id`,
    queuePosition: `
      SELECT count(*)::int AS n FROM ${t.handlers} h JOIN ${t.handlers} q
        ON q.limit_key = h.limit_key AND q.status = 'running' AND q.queued
       AND (q.started_at, q.handler_id) <= (h.started_at, h.handler_id)
      WHERE h.handler_id = $1 AND h.limit_key IS NOT NULL AND h.status = 'running' AND h.queued`,
    queuedKeys: `
      SELECT DISTINCT limit_key FROM ${t.handlers}
      WHERE limit_key IS NOT NULL AND status = 'running' AND queued LIMIT $1`,
    /**
     * Running handlers with no live lease, leaving out those that wait for outside events with no
     * timer due by $2 (epoch ms) and an empty inbox: those hold no process until something wakes them.
     */
    listExpiredRunning: `
      SELECT h.handler_id FROM ${t.handlers} h
      LEFT JOIN ${t.leases} l ON l.handler_id = h.handler_id
      WHERE h.status = 'running' AND NOT h.queued AND (l.handler_id IS NULL OR l.expires_at <= now())
        AND (h.idle_until IS NULL OR h.idle_until <= $2::bigint
             OR EXISTS (SELECT 1 FROM ${t.inbox} i WHERE i.handler_id = h.handler_id))
      ORDER BY h.started_at, h.handler_id
      LIMIT $1`,
  };
}
