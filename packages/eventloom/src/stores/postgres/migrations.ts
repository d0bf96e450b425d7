import type pg from "pg";

/** One step of the schema's history. Applied once, in order, inside the migration transaction. */
export interface Migration {
  version: number;
  name: string;
  /** Runs with `search_path` set to the store's schema, so names are unqualified. */
  sql: string;
  /**
   * The oldest schema version whose library may still run on this one (older processes during a
   * rolling deploy or a rollback): set it when the migration only adds what older code ignores.
   * Default: its own version (older code refuses to start).
   */
  compatibleFrom?: number;
}

export interface MigrateOptions {
  /** How long each statement waits for a lock before the migration gives up. Default 5 000. */
  lockTimeoutMs?: number;
  /** How long each statement may run. Default 600 000. */
  statementTimeoutMs?: number;
}

/**
 * The schema's history. Append only: never edit a migration that has shipped, add the next one.
 *
 * Payloads are `json` (kept as sent), not `jsonb`: nothing queries inside them, `json` is cheaper to
 * write, and it accepts `\u0000` in strings, which `jsonb` rejects. Handler ids use the "C" collation
 * so that they sort by code point, as the other stores sort them.
 */
export const migrations: readonly Migration[] = [
  {
    version: 1,
    name: "handlers, events, states, inbox, changes",
    sql: `
      CREATE TABLE handlers (
        handler_id    text COLLATE "C" PRIMARY KEY,
        workflow_name text NOT NULL,
        run_id        text NOT NULL,
        status        text NOT NULL,
        result        json NOT NULL,
        error         text,
        -- ISO 8601 UTC with milliseconds, kept as given: they sort as text, as in the other stores.
        started_at    text COLLATE "C" NOT NULL,
        updated_at    text NOT NULL,
        completed_at  text
      );
      CREATE INDEX handlers_newest_idx ON handlers (started_at DESC, handler_id DESC);
      CREATE INDEX handlers_running_idx ON handlers (started_at, handler_id) WHERE status = 'running';

      CREATE TABLE events (
        handler_id text COLLATE "C" NOT NULL,
        sequence   bigint NOT NULL,
        event      json NOT NULL,
        PRIMARY KEY (handler_id, sequence)
      );

      CREATE TABLE states (
        handler_id text COLLATE "C" PRIMARY KEY,
        state      json NOT NULL
      );

      CREATE TABLE inbox (
        position   bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        handler_id text COLLATE "C" NOT NULL,
        id         text NOT NULL,
        item       json NOT NULL,
        UNIQUE (handler_id, id)
      );

      -- One row per handler: the id of the last transaction that changed it. The polling fallback of
      -- subscribe() reads the rows written by transactions it has not seen yet (see change-feed.ts).
      CREATE TABLE changes (
        handler_id text COLLATE "C" PRIMARY KEY,
        xid        xid8 NOT NULL
      );
      CREATE INDEX changes_xid_idx ON changes (xid);
    `,
  },
  {
    version: 2,
    name: "leases",
    sql: `
      -- Fencing tokens come from one sequence, so a token is never reused, not even for a handler
      -- that was deleted and created again.
      CREATE SEQUENCE lease_tokens;

      CREATE TABLE leases (
        handler_id text COLLATE "C" PRIMARY KEY,
        owner      text NOT NULL,
        token      bigint NOT NULL,
        expires_at timestamptz NOT NULL
      );
      CREATE INDEX leases_owner_idx ON leases (owner);
    `,
  },
  {
    version: 3,
    name: "handlers.resume_attempts: resumes since the run's last finished step",
    sql: "ALTER TABLE handlers ADD COLUMN resume_attempts integer NOT NULL DEFAULT 0",
  },
  {
    version: 4,
    name: "handlers.workflow_version and handlers.blocked; indexes of blocked and of ended handlers",
    sql: `
      ALTER TABLE handlers ADD COLUMN workflow_version text;
      ALTER TABLE handlers ADD COLUMN blocked json;
      CREATE INDEX handlers_blocked_idx ON handlers (started_at DESC, handler_id DESC)
        WHERE blocked IS NOT NULL;
      CREATE INDEX handlers_ended_idx ON handlers ((completed_at COLLATE "C"))
        WHERE status <> 'running';
    `,
  },
  {
    version: 5,
    name: "idempotency_keys: each Idempotency-Key's first request and its answer",
    sql: `
      CREATE TABLE idempotency_keys (
        key         text COLLATE "C" PRIMARY KEY,
        fingerprint text NOT NULL,
        handler_id  text,
        run_id      text,
        status      integer,            -- null while the answer is a run's outcome still to come
        body        text,               -- JSON, kept as given
        created_at  text COLLATE "C" NOT NULL  -- ISO 8601 UTC: the TTL's deletions go by it
      );
      CREATE INDEX idempotency_keys_created_idx ON idempotency_keys (created_at);
    `,
  },
  {
    version: 6,
    name: "refuse_commit(): a commit refused inside its statement; handlers.idle_until for takeovers",
    sql: `
      -- Called by the commit statement: raises (rolling the whole statement back) when ids is not
      -- empty, with the reason as the message and the ids as JSON in the detail.
      CREATE FUNCTION refuse_commit(reason text, ids text[]) RETURNS boolean
      LANGUAGE plpgsql VOLATILE AS $$
      BEGIN
        IF ids IS NOT NULL AND cardinality(ids) > 0 THEN
          RAISE EXCEPTION USING ERRCODE = 'EL409', MESSAGE = reason, DETAIL = array_to_json(ids)::text;
        END IF;
        RETURN true;
      END
      $$;
      -- A running handler that waits for outside events: its earliest timer (epoch ms; the largest
      -- bigint when it has none). Null when it is not idle. Takeovers skip those not yet due.
      ALTER TABLE handlers ADD COLUMN idle_until bigint;
    `,
  },
  {
    version: 7,
    name: "time and composition: handlers.wake_at, parent_handler_id, schedule_id, limit_key, queued; schedules",
    sql: `
      ALTER TABLE handlers ADD COLUMN wake_at bigint;              -- epoch ms: when a released idle run is woken
      ALTER TABLE handlers ADD COLUMN parent_handler_id text COLLATE "C";
      ALTER TABLE handlers ADD COLUMN schedule_id text;
      ALTER TABLE handlers ADD COLUMN limit_key text COLLATE "C";
      ALTER TABLE handlers ADD COLUMN queued boolean NOT NULL DEFAULT false;
      CREATE INDEX handlers_wake_idx ON handlers (wake_at) WHERE wake_at IS NOT NULL;
      CREATE INDEX handlers_children_idx ON handlers (parent_handler_id, started_at, handler_id)
        WHERE parent_handler_id IS NOT NULL;
      CREATE INDEX handlers_limited_idx ON handlers (limit_key, queued, started_at, handler_id)
        WHERE limit_key IS NOT NULL AND status = 'running';

      -- One row per schedule: the last fire time a process claimed (exactly one run per fire time).
      CREATE TABLE schedules (
        schedule_id     text COLLATE "C" PRIMARY KEY,
        last_fire_at    bigint NOT NULL,
        last_handler_id text
      );
    `,
  },
  {
    version: 8,
    name: "start_events: the event each handler's latest run started with, gone with its handler",
    sql: `
      CREATE TABLE start_events (
        handler_id text COLLATE "C" PRIMARY KEY,
        event      json NOT NULL
      );
      -- The function keeps this schema as its search_path: deletes from any session find the table.
      CREATE FUNCTION start_events_of_deleted_handler() RETURNS trigger LANGUAGE plpgsql
        SET search_path FROM CURRENT AS $$
        BEGIN
          DELETE FROM start_events WHERE handler_id = OLD.handler_id;
          RETURN NULL;
        END $$;
      CREATE TRIGGER start_events_of_deleted_handler AFTER DELETE ON handlers
        FOR EACH ROW EXECUTE FUNCTION start_events_of_deleted_handler();
    `,
  },
  {
    version: 9,
    name: "idempotency_keys by handler: retention drops the answers of the keys of what it deletes",
    sql: `
      CREATE INDEX idempotency_keys_answered_idx ON idempotency_keys (handler_id)
        WHERE handler_id IS NOT NULL AND status IS NOT NULL;
    `,
    // An index older code ignores: it may go on running on this schema.
    compatibleFrom: 8,
  },
];

/**
 * Brings `schema` up to the newest migration. Every statement runs in one transaction that first
 * takes a transaction-scoped advisory lock keyed by the schema's name, so processes that start at
 * once queue here and each sees the others' work: exactly one applies each migration.
 * Throws, changing nothing, when the schema was migrated by a newer release of this library, unless
 * every newer migration says this release may run on it (`compatible_from`). Each statement waits
 * at most `lockTimeoutMs` for a lock (a migration queued behind a long query would stop every query
 * queued behind it): then it rejects, changing nothing, and can be run again.
 *
 * @returns the versions this call applied.
 */
export async function migrate(
  client: pg.ClientBase,
  schema: string,
  list: readonly Migration[] = migrations,
  options: MigrateOptions = {},
): Promise<number[]> {
  const ident = quoteIdent(schema);
  const applied: number[] = [];
  await client.query("BEGIN");
  try {
    await client.query("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", [
      `eventloom:migrate:${schema}`,
    ]);
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${ident}`);
    await client.query(`SET LOCAL search_path TO ${ident}`);
    await client.query(`SET LOCAL lock_timeout = ${Math.max(1, Math.floor(options.lockTimeoutMs ?? 5_000))}`);
    await client.query(
      `SET LOCAL statement_timeout = ${Math.max(1, Math.floor(options.statementTimeoutMs ?? 600_000))}`,
    );
    await client.query(
      `CREATE TABLE IF NOT EXISTS schema_migrations (
         version    integer PRIMARY KEY,
         name       text NOT NULL,
         applied_at timestamptz NOT NULL DEFAULT now()
       )`,
    );
    await client.query("ALTER TABLE schema_migrations ADD COLUMN IF NOT EXISTS compatible_from integer");
    const { rows } = await client.query<{ version: number; compatible_from: number | null }>(
      "SELECT version, compatible_from FROM schema_migrations",
    );
    const done = new Set(rows.map((r) => r.version));
    const latest = Math.max(0, ...list.map((m) => m.version));
    const newest = Math.max(0, ...done);
    const refusing = rows.filter((r) => r.version > latest && (r.compatible_from ?? r.version) > latest);
    if (refusing.length > 0) {
      throw new Error(
        `The schema "${schema}" is at version ${newest}, newer than this library's (${latest}), and not marked compatible with it: upgrade the library`,
      );
    }
    for (const migration of [...list].sort((a, b) => a.version - b.version)) {
      if (done.has(migration.version)) continue;
      await client.query(migration.sql);
      await client.query(
        "INSERT INTO schema_migrations (version, name, compatible_from) VALUES ($1, $2, $3)",
        [migration.version, migration.name, migration.compatibleFrom ?? migration.version],
      );
      applied.push(migration.version);
    }
    await client.query("COMMIT");
  } catch (error) {
    await client.query("ROLLBACK").catch(() => undefined);
    throw error;
  }
  return applied;
}

/** Quotes an SQL identifier (a schema or channel name). */
export function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}
