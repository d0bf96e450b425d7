import type { HandlerRowColumns } from "../rows.js";
import { leaseStatements } from "./lease-statements.js";
import { tablesOf } from "./tables.js";

/** The columns of migration 7: timers, parents, schedules, limits. */
const LINK_COLUMNS = "wake_at::text AS wake_at, parent_handler_id, schedule_id, limit_key, queued";

const HANDLER_COLUMNS = `handler_id, workflow_name, run_id, status, result::text AS result, error,
  started_at, updated_at, completed_at, resume_attempts, workflow_version, blocked::text AS blocked,
  ${LINK_COLUMNS}`;

// A listing's columns: a result longer than $6 bytes is not sent over the connection; an error longer
// than $9 bytes is cut to its first $10 characters.
const LISTED_COLUMNS = `handler_id, workflow_name, run_id, status,
  CASE WHEN octet_length(error) > $9::bigint THEN left(error, $10::integer) ELSE error END AS error,
  octet_length(error) > $9::bigint AS error_truncated, started_at, updated_at, completed_at,
  resume_attempts, workflow_version, blocked::text AS blocked, ${LINK_COLUMNS},
  CASE WHEN octet_length(result::text) > $6::bigint THEN 'null' ELSE result::text END AS result,
  octet_length(result::text) > $6::bigint AS result_truncated`;

/** Every SQL text the store runs, with its tables qualified by the schema. Built once per store. */
export function buildStatements(schema: string) {
  const t = tablesOf(schema);
  const KEY_COLUMNS = "key, fingerprint, handler_id, run_id, status, body, created_at";
  /** Inserts the key of parameters $n..$n+6 when $n is not null. */
  const insertKey = (n: number) => `
        INSERT INTO ${t.keys} (${KEY_COLUMNS})
        SELECT $${n}::text, $${n + 1}::text, $${n + 2}::text, $${n + 3}::text, $${n + 4}::integer,
               $${n + 5}::text, $${n + 6}::text
        WHERE $${n}::text IS NOT NULL
        RETURNING 1`;

  /** An inbox item ($1..$3), its handler's change mark and its key ($6..): the CTEs of both appends. */
  const inboxWrite = `
      i AS (
        INSERT INTO ${t.inbox} (handler_id, id, item) VALUES ($1, $2, $3::json)
        RETURNING 1
      ),
      c AS (
        INSERT INTO ${t.changes} (handler_id, xid) VALUES ($1, pg_current_xact_id())
        ON CONFLICT (handler_id) DO UPDATE SET xid = excluded.xid
        RETURNING 1
      ),
      k AS (${insertKey(6)}
      )`;
  return {
    tables: t,

    /**
     * The whole batch in one statement, hence one implicit transaction and one round trip: the fence
     * check, the writes and the notices. Data-modifying CTEs always run to completion; the notices are
     * sent when it commits. Rows arrive sorted by key so that concurrent batches lock rows in the
     * same order, lease rows first (every write waits for the guard, which locks them).
     *
     * Fencing: a handler the batch writes is refused when its fence ($34..$36) does not match its
     * lease row, when it has a lease row but no fence, when it has no lease row and its fence does not
     * claim it ($49: a new handler whose lease this batch creates), or when it has no fence in a fenced
     * batch ($37: the writer holds leases, so every handler it writes must be fenced). A fenced handler
     * whose record ends in the batch gives its lease back in it (no release of its own); a claimed one
     * that ends in it never gets one. A stored record that
     * ended under the same run is never changed to anything else (a same-run rewrite of the same
     * outcome is let through: the retry of a commit that landed). Either refusal raises in
     * refuse_commit() (SQLSTATE EL409), rolling the whole statement back.
     */
    commit: `
      WITH
      fq AS (
        SELECT * FROM unnest($34::text[], $35::text[], $36::bigint[], $49::bigint[])
          AS f(handler_id, owner, token, claim_ttl)
      ),
      wq AS (
        SELECT handler_id FROM unnest($1::text[]) AS x(handler_id)
        UNION SELECT handler_id FROM unnest($10::text[]) AS x(handler_id)
        UNION SELECT handler_id FROM unnest($13::text[]) AS x(handler_id)
        UNION SELECT handler_id FROM unnest($15::text[]) AS x(handler_id)
        UNION SELECT handler_id FROM fq
      ),
      lk AS (
        SELECT l.handler_id, l.owner, l.token FROM ${t.leases} l
        WHERE l.handler_id IN (SELECT handler_id FROM wq)
        ORDER BY l.handler_id
        FOR SHARE OF l
      ),
      lost AS (
        SELECT wq.handler_id FROM wq
        LEFT JOIN fq ON fq.handler_id = wq.handler_id
        LEFT JOIN lk ON lk.handler_id = wq.handler_id
        WHERE CASE WHEN fq.handler_id IS NULL THEN $37::boolean OR lk.handler_id IS NOT NULL
                   WHEN lk.handler_id IS NULL THEN fq.claim_ttl IS NULL
                   ELSE lk.owner <> fq.owner OR lk.token <> fq.token END
      ),
      guard AS (
        SELECT ${t.schema}.refuse_commit('LEASE_LOST',
          (SELECT array_agg(handler_id ORDER BY handler_id) FROM lost)) AS ok
      ),
      h AS (
        INSERT INTO ${t.handlers} AS cur (handler_id, workflow_name, run_id, status, result, error,
                                   started_at, updated_at, completed_at, resume_attempts,
                                   workflow_version, blocked, idle_until, wake_at, parent_handler_id,
                                   schedule_id, limit_key, queued)
        SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::json[], $6::text[],
                             $7::text[], $8::text[], $9::text[], $20::integer[], $21::text[], $22::json[],
                             $38::bigint[], $39::bigint[], $40::text[], $41::text[], $42::text[], $43::boolean[])
        WHERE (SELECT ok FROM guard)
        ON CONFLICT (handler_id) DO UPDATE SET
          workflow_name = excluded.workflow_name, run_id = excluded.run_id, status = excluded.status,
          result = excluded.result, error = excluded.error, started_at = excluded.started_at,
          updated_at = excluded.updated_at, completed_at = excluded.completed_at,
          resume_attempts = excluded.resume_attempts, workflow_version = excluded.workflow_version,
          blocked = excluded.blocked, wake_at = excluded.wake_at,
          parent_handler_id = excluded.parent_handler_id, schedule_id = excluded.schedule_id,
          limit_key = excluded.limit_key, queued = excluded.queued,
          idle_until = CASE WHEN excluded.idle_until = -1 THEN cur.idle_until ELSE excluded.idle_until END
        WHERE cur.status = 'running' OR cur.run_id <> excluded.run_id OR (
          cur.status = excluded.status AND cur.completed_at IS NOT DISTINCT FROM excluded.completed_at
          AND cur.result::text = excluded.result::text AND cur.error IS NOT DISTINCT FROM excluded.error)
        RETURNING handler_id
      ),
      ended AS (
        SELECT ${t.schema}.refuse_commit('HANDLER_ENDED', (
          SELECT array_agg(x.handler_id ORDER BY x.handler_id) FROM unnest($1::text[]) AS x(handler_id)
          WHERE x.handler_id NOT IN (SELECT handler_id FROM h))) AS ok
      ),
      r AS (
        -- A fenced handler whose record ends here gives its lease back in the same statement.
        DELETE FROM ${t.leases} l USING fq, unnest($1::text[], $4::text[]) AS x(handler_id, status)
        WHERE l.handler_id = fq.handler_id AND l.owner = fq.owner AND l.token = fq.token
          AND x.handler_id = fq.handler_id AND x.status <> 'running' AND (SELECT ok FROM guard)
        RETURNING 1
      ),
      cl AS (
        -- A new handler claimed by this batch gets its lease here, unless its record ends here too.
        INSERT INTO ${t.leases} (handler_id, owner, token, expires_at)
        SELECT fq.handler_id, fq.owner, fq.token, now() + fq.claim_ttl * interval '1 millisecond'
        FROM fq JOIN unnest($1::text[], $4::text[]) AS x(handler_id, status) ON x.handler_id = fq.handler_id
        WHERE fq.claim_ttl IS NOT NULL AND x.status = 'running' AND (SELECT ok FROM guard)
        ORDER BY fq.handler_id
        ON CONFLICT (handler_id) DO NOTHING
        RETURNING 1
      ),
      e AS (
        INSERT INTO ${t.events} (handler_id, sequence, event)
        SELECT * FROM unnest($10::text[], $11::bigint[], $12::json[])
        WHERE (SELECT ok FROM guard)
        RETURNING 1
      ),
      s AS (
        INSERT INTO ${t.states} (handler_id, state)
        SELECT * FROM unnest($13::text[], $14::json[])
        WHERE (SELECT ok FROM guard)
        ON CONFLICT (handler_id) DO UPDATE SET state = excluded.state
        RETURNING 1
      ),
      ib AS (
        -- Items for other handlers' inboxes, when running after this batch (its own records first,
        -- then the stored ones); not fenced: nothing of theirs changes.
        INSERT INTO ${t.inbox} (handler_id, id, item)
        SELECT x.handler_id, x.id, x.item
        FROM unnest($46::text[], $47::text[], $48::json[]) AS x(handler_id, id, item)
        WHERE (SELECT ok FROM guard) AND COALESCE(
          (SELECT b.status = 'running' FROM unnest($1::text[], $4::text[]) AS b(handler_id, status)
           WHERE b.handler_id = x.handler_id),
          EXISTS (SELECT 1 FROM ${t.handlers} hh WHERE hh.handler_id = x.handler_id AND hh.status = 'running'))
        ORDER BY x.handler_id, x.id
        ON CONFLICT (handler_id, id) DO NOTHING
        RETURNING 1
      ),
      d AS (
        DELETE FROM ${t.inbox} i
        USING unnest($15::text[], $16::text[]) AS x(handler_id, id)
        WHERE i.handler_id = x.handler_id AND i.id = x.id AND (SELECT ok FROM guard)
        RETURNING 1
      ),
      c AS (
        INSERT INTO ${t.changes} (handler_id, xid)
        SELECT unnest($17::text[]), pg_current_xact_id()
        ON CONFLICT (handler_id) DO UPDATE SET xid = excluded.xid
        RETURNING 1
      ),
      k AS (
        INSERT INTO ${t.keys} (${KEY_COLUMNS})
        SELECT * FROM unnest($23::text[], $24::text[], $25::text[], $26::text[], $27::integer[],
                             $28::text[], $29::text[])
        RETURNING 1
      ),
      st AS (
        INSERT INTO ${t.starts} (handler_id, event)
        SELECT * FROM unnest($44::text[], $45::json[])
        WHERE (SELECT ok FROM guard)
        ON CONFLICT (handler_id) DO UPDATE SET event = excluded.event
        RETURNING 1
      ),
      a AS (
        UPDATE ${t.keys} AS ik SET status = x.status, body = x.body
        FROM unnest($30::text[], $31::text[], $32::integer[], $33::text[]) AS x(key, fingerprint, status, body)
        WHERE ik.key = x.key AND ik.status IS NULL AND ik.fingerprint = x.fingerprint
          AND (ik.handler_id IS NULL OR EXISTS (SELECT 1 FROM ${t.handlers} h WHERE h.handler_id = ik.handler_id))
        RETURNING 1
      )
      SELECT (SELECT ok FROM guard) AND (SELECT ok FROM ended) AS ok,
             (SELECT count(pg_notify($18, p)) FROM unnest($19::text[]) AS p) AS notices`,

    /** Which of the given (handler, sequence) pairs are already stored: to name a conflict. */
    findStoredSequences: `
      SELECT ev.handler_id, ev.sequence::text AS sequence FROM ${t.events} ev
      JOIN unnest($1::text[], $2::bigint[]) AS x(handler_id, sequence)
        ON ev.handler_id = x.handler_id AND ev.sequence = x.sequence
      LIMIT 1`,

    /** Reads of many handlers at once (ReadBatch, read-batches.ts), as are loadState and readInbox. */
    getHandler: `SELECT ${HANDLER_COLUMNS} FROM ${t.handlers} WHERE handler_id = ANY($1::text[])`,

    dueWakes: `
      SELECT handler_id AS "handlerId", wake_at::text AS "wakeAt" FROM ${t.handlers}
      WHERE wake_at IS NOT NULL AND wake_at <= $1 AND status = 'running'
      ORDER BY wake_at LIMIT $2`,

    listHandlers: `
      SELECT ${LISTED_COLUMNS} FROM ${t.handlers}
      WHERE ($1::text[] IS NULL OR status = ANY($1::text[]))
        AND ($2::text[] IS NULL OR workflow_name = ANY($2::text[]))
        AND ($3::text IS NULL OR (started_at, handler_id) < ($3::text, $4::text))
        AND ($7::boolean IS NULL OR (blocked IS NOT NULL) = $7::boolean)
        AND ($8::text IS NULL OR parent_handler_id = $8::text)
      ORDER BY started_at DESC, handler_id DESC
      LIMIT $5`,

    /** The blocked ones only: written out so that the planner uses their partial index. */
    listBlockedHandlers: `
      SELECT ${LISTED_COLUMNS} FROM ${t.handlers}
      WHERE blocked IS NOT NULL AND ($7::boolean IS NOT NULL)
        AND ($8::text IS NULL OR parent_handler_id = $8::text)
        AND ($1::text[] IS NULL OR status = ANY($1::text[]))
        AND ($2::text[] IS NULL OR workflow_name = ANY($2::text[]))
        AND ($3::text IS NULL OR (started_at, handler_id) < ($3::text, $4::text))
      ORDER BY started_at DESC, handler_id DESC
      LIMIT $5`,

    /**
     * Retention: the oldest due ended handlers (rows locked, SKIP LOCKED: a commit that is making one
     * run again wins), deleted with everything stored for them, in one statement.
     */
    deleteEnded: `
      WITH
      due AS (
        SELECT handler_id, completed_at COLLATE "C" AS completed_at FROM ${t.handlers}
        WHERE status <> 'running' AND blocked IS NULL AND (
          (status = 'completed' AND completed_at COLLATE "C" < $1::text) OR
          (status = 'failed' AND completed_at COLLATE "C" < $2::text) OR
          (status = 'cancelled' AND completed_at COLLATE "C" < $3::text))
        ORDER BY completed_at COLLATE "C", handler_id
        LIMIT $4
        FOR UPDATE SKIP LOCKED
      ),
      h AS (DELETE FROM ${t.handlers} WHERE handler_id IN (SELECT handler_id FROM due) RETURNING handler_id),
      e AS (DELETE FROM ${t.events} WHERE handler_id IN (SELECT handler_id FROM due) RETURNING 1),
      s AS (DELETE FROM ${t.states} WHERE handler_id IN (SELECT handler_id FROM due) RETURNING 1),
      i AS (DELETE FROM ${t.inbox} WHERE handler_id IN (SELECT handler_id FROM due) RETURNING 1),
      l AS (DELETE FROM ${t.leases} WHERE handler_id IN (SELECT handler_id FROM due) RETURNING 1),
      c AS (DELETE FROM ${t.changes} WHERE handler_id IN (SELECT handler_id FROM due) RETURNING 1),
      k AS (
        UPDATE ${t.keys} SET status = NULL, body = NULL
        WHERE handler_id IN (SELECT handler_id FROM due) AND status IS NOT NULL
        RETURNING 1
      )
      SELECT due.handler_id FROM due JOIN h ON h.handler_id = due.handler_id
      ORDER BY due.completed_at, due.handler_id`,

    listRunning: `
      SELECT ${HANDLER_COLUMNS} FROM ${t.handlers}
      WHERE status = 'running'
      ORDER BY started_at, handler_id`,

    readEvents: `
      SELECT sequence, event::text AS event FROM ${t.events}
      WHERE handler_id = $1 AND sequence > $2
      ORDER BY sequence
      LIMIT $3`,

    /** readEvents that stops after the row whose running total of text length reaches $4. */
    readEventsBounded: `
      SELECT sequence, event FROM (
        SELECT sequence, event::text AS event,
               sum(length(event::text)) OVER (ORDER BY sequence) AS total
        FROM ${t.events}
        WHERE handler_id = $1 AND sequence > $2
        ORDER BY sequence
        LIMIT $3
      ) page
      WHERE total - length(event) < $4::bigint
      ORDER BY sequence`,

    lastSequence: `SELECT coalesce(max(sequence), -1)::text AS last FROM ${t.events} WHERE handler_id = $1`,

    loadState: `SELECT handler_id, state::text AS state FROM ${t.states} WHERE handler_id = ANY($1::text[])`,

    appendInbox: `
      WITH ${inboxWrite}
      SELECT pg_notify($4, $5)`,

    /**
     * appendInbox, and whether some process holds a live lease on the handler, by the database's
     * clock. The lease row is read FOR SHARE: a release (or a commit that ends the run and gives the
     * lease back) waits for this statement, so its holder's inbox read after it sees the item.
     */
    appendInboxLeased: `
      WITH ${inboxWrite},
      l AS (SELECT expires_at > now() AS live FROM ${t.leases} WHERE handler_id = $1 FOR SHARE)
      SELECT pg_notify($4, $5), coalesce((SELECT live FROM l), false) AS leased`,

    readInbox: `
      SELECT handler_id, item::text AS item FROM ${t.inbox}
      WHERE handler_id = ANY($1::text[]) ORDER BY position`,

    /**
     * A purge's first statement: takes the handler's lease row (inserted when there is none) under a
     * new token, in the order commits take lease rows. A commit in flight finishes first; any fenced
     * commit after it is refused. The deletion then runs in a statement of its own, whose snapshot
     * sees every row that commit wrote.
     */
    takeForPurge: `
      INSERT INTO ${t.leases} AS l (handler_id, owner, token, expires_at)
      VALUES ($1, '', nextval(${t.tokenSequence}), now())
      ON CONFLICT (handler_id) DO UPDATE SET owner = '', token = excluded.token, expires_at = now()`,

    deleteHandler: `
      WITH
      h AS (DELETE FROM ${t.handlers} WHERE handler_id = $1 RETURNING 1),
      e AS (DELETE FROM ${t.events} WHERE handler_id = $1 RETURNING 1),
      s AS (DELETE FROM ${t.states} WHERE handler_id = $1 RETURNING 1),
      i AS (DELETE FROM ${t.inbox} WHERE handler_id = $1 RETURNING 1),
      l AS (DELETE FROM ${t.leases} WHERE handler_id = $1 RETURNING 1),
      c AS (DELETE FROM ${t.changes} WHERE handler_id = $1 RETURNING 1),
      k AS (${insertKey(2)}
      )
      SELECT count(*)::int AS deleted FROM h`,

    getStartEvent: `SELECT event::text AS event FROM ${t.starts} WHERE handler_id = $1`,

    getKey: `SELECT ${KEY_COLUMNS} FROM ${t.keys} WHERE key = $1`,

    /** Which of the given keys are stored: to name a conflict. */
    findKeys: `SELECT key, handler_id FROM ${t.keys} WHERE key = ANY($1::text[]) LIMIT 1`,

    /** A record waiting for its run's outcome takes it once; anything else stored stays as it is. */
    putKey: `
      INSERT INTO ${t.keys} AS k (${KEY_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7)
      ON CONFLICT (key) DO UPDATE SET status = excluded.status, body = excluded.body
      WHERE k.status IS NULL AND excluded.status IS NOT NULL AND k.fingerprint = excluded.fingerprint
      RETURNING ${KEY_COLUMNS}`,

    deleteKeys: `
      DELETE FROM ${t.keys} WHERE key IN (
        SELECT key FROM ${t.keys} WHERE created_at < $1 ORDER BY created_at LIMIT $2
        FOR UPDATE SKIP LOCKED)`,

    ...leaseStatements(t),
  };
}

export type Statements = ReturnType<typeof buildStatements>;

/** A row of `handlers` as the statements above select it. */
export interface HandlerRow extends HandlerRowColumns {
  /** Listings only. */
  result_truncated?: boolean;
  error_truncated?: boolean;
}

export type { KeyRow } from "../rows.js";

export interface LeaseRow {
  handler_id: string;
  owner: string;
  token: string;
  expires_at: string;
}
