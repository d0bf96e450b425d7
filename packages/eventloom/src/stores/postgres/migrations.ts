import type pg from "pg";

/** One step of the schema's history. Applied once, in order, inside the migration transaction. */
export interface Migration {
  version: number;
  name: string;
  /** Runs with `search_path` set to the store's schema, so names are unqualified. */
  sql: string;
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
];

/**
 * Brings `schema` up to the newest migration. Every statement runs in one transaction that first
 * takes a transaction-scoped advisory lock keyed by the schema's name, so processes that start at
 * once queue here and each sees the others' work: exactly one applies each migration.
 * Throws, changing nothing, when the schema was migrated by a newer release of this library.
 *
 * @returns the versions this call applied.
 */
export async function migrate(
  client: pg.ClientBase,
  schema: string,
  list: readonly Migration[] = migrations,
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
    await client.query(
      `CREATE TABLE IF NOT EXISTS schema_migrations (
         version    integer PRIMARY KEY,
         name       text NOT NULL,
         applied_at timestamptz NOT NULL DEFAULT now()
       )`,
    );
    const { rows } = await client.query<{ version: number }>("SELECT version FROM schema_migrations");
    const done = new Set(rows.map((r) => r.version));
    const latest = Math.max(0, ...list.map((m) => m.version));
    const newest = Math.max(0, ...done);
    if (newest > latest) {
      throw new Error(
        `The schema "${schema}" is at version ${newest}, newer than this library's (${latest}): upgrade the library`,
      );
    }
    for (const migration of [...list].sort((a, b) => a.version - b.version)) {
      if (done.has(migration.version)) continue;
      await client.query(migration.sql);
      await client.query("INSERT INTO schema_migrations (version, name) VALUES ($1, $2)", [
        migration.version,
        migration.name,
      ]);
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
