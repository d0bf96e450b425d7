import type Database from "better-sqlite3";

/** One step of the schema's history. Never edit a released migration: add a new one. */
export interface Migration {
  version: number;
  description: string;
  sql: string;
}

/** The schema's history, in order; the database's `PRAGMA user_version` is the last one applied. */
export const migrations: readonly Migration[] = [
  {
    version: 1,
    description: "handlers, events, states and inbox",
    sql: `
      CREATE TABLE handlers (
        handler_id    TEXT PRIMARY KEY,
        workflow_name TEXT NOT NULL,
        run_id        TEXT NOT NULL,
        status        TEXT NOT NULL,
        result        TEXT NOT NULL,  -- JSON
        error         TEXT,
        started_at    TEXT NOT NULL,  -- ISO 8601 UTC, sorts as text
        updated_at    TEXT NOT NULL,
        completed_at  TEXT
      );
      CREATE INDEX handlers_newest ON handlers (started_at DESC, handler_id DESC);
      CREATE INDEX handlers_status_newest ON handlers (status, started_at DESC, handler_id DESC);

      -- A rowid table: appends stay sequential (a WITHOUT ROWID table keyed by random handler ids
      -- was 3-4x slower to insert into); the primary key's index serves reads by handler.
      CREATE TABLE events (
        handler_id TEXT NOT NULL,
        sequence   INTEGER NOT NULL,
        envelope   TEXT NOT NULL,     -- JSON of the PublishedEvent
        PRIMARY KEY (handler_id, sequence)
      );

      CREATE TABLE states (
        handler_id TEXT PRIMARY KEY,
        state      TEXT NOT NULL      -- JSON of the RunState
      );

      CREATE TABLE inbox (
        position   INTEGER PRIMARY KEY, -- insertion order
        handler_id TEXT NOT NULL,
        item_id    TEXT NOT NULL,
        item       TEXT NOT NULL,       -- JSON of the InboxItem
        UNIQUE (handler_id, item_id)
      );
      CREATE INDEX inbox_handler ON inbox (handler_id, position);
    `,
  },
  {
    version: 2,
    description: "handlers.resume_attempts: resumes since the run's last finished step",
    sql: "ALTER TABLE handlers ADD COLUMN resume_attempts INTEGER NOT NULL DEFAULT 0;",
  },
  {
    version: 3,
    description: "handlers.workflow_version and handlers.blocked; indexes of blocked and of ended handlers",
    sql: `
      ALTER TABLE handlers ADD COLUMN workflow_version TEXT;
      ALTER TABLE handlers ADD COLUMN blocked TEXT;  -- JSON {code, detail, since}; NULL when not blocked
      -- Partial: a running handler's updates never touch them.
      CREATE INDEX handlers_blocked_newest ON handlers (started_at DESC, handler_id DESC)
        WHERE blocked IS NOT NULL;
      CREATE INDEX handlers_ended ON handlers (status, completed_at) WHERE status != 'running';
    `,
  },
  {
    version: 4,
    description: "idempotency_keys: each Idempotency-Key's first request and its answer",
    sql: `
      CREATE TABLE idempotency_keys (
        key         TEXT PRIMARY KEY,
        fingerprint TEXT NOT NULL,
        handler_id  TEXT,
        run_id      TEXT,
        status      INTEGER,          -- null while the answer is a run's outcome still to come
        body        TEXT,             -- JSON
        created_at  TEXT NOT NULL     -- ISO 8601 UTC: the TTL's deletions go by it
      ) WITHOUT ROWID;
      CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);
    `,
  },
  {
    version: 5,
    description:
      "time and composition: handlers.wake_at, parent_handler_id, schedule_id, limit_key, queued; schedules",
    sql: `
      ALTER TABLE handlers ADD COLUMN wake_at INTEGER;       -- epoch ms: when a released idle run is woken
      ALTER TABLE handlers ADD COLUMN parent_handler_id TEXT; -- the run whose ctx.runWorkflow started it
      ALTER TABLE handlers ADD COLUMN schedule_id TEXT;       -- the schedule whose fire time started it
      ALTER TABLE handlers ADD COLUMN limit_key TEXT;         -- the concurrency limit it counts against
      ALTER TABLE handlers ADD COLUMN queued INTEGER NOT NULL DEFAULT 0; -- 1 while it waits for that limit
      -- Partial: only running handlers with a timer (or a parent, or a limit) are in them.
      CREATE INDEX handlers_wake ON handlers (wake_at) WHERE wake_at IS NOT NULL;
      CREATE INDEX handlers_children ON handlers (parent_handler_id, started_at, handler_id)
        WHERE parent_handler_id IS NOT NULL;
      CREATE INDEX handlers_limited ON handlers (limit_key, queued, started_at, handler_id)
        WHERE limit_key IS NOT NULL AND status = 'running';

      -- One row per schedule: the last fire time a process claimed (exactly one run per fire time).
      CREATE TABLE schedules (
        schedule_id     TEXT PRIMARY KEY,
        last_fire_at    INTEGER NOT NULL, -- epoch ms
        last_handler_id TEXT
      ) WITHOUT ROWID;
    `,
  },
  {
    version: 6,
    description: "start_events: the event each handler's latest run started with, gone with its handler",
    sql: `
      CREATE TABLE start_events (
        handler_id TEXT PRIMARY KEY,
        event      TEXT NOT NULL      -- JSON of the WorkflowEvent
      ) WITHOUT ROWID;
      CREATE TRIGGER start_events_of_deleted_handler AFTER DELETE ON handlers BEGIN
        DELETE FROM start_events WHERE handler_id = old.handler_id;
      END;
    `,
  },
  {
    version: 7,
    description: "idempotency_keys by handler: retention drops the answers of the keys of what it deletes",
    sql: `
      -- Partial: only keys that name a handler and still hold an answer are in it.
      CREATE INDEX idempotency_keys_answered ON idempotency_keys (handler_id)
        WHERE handler_id IS NOT NULL AND status IS NOT NULL;
    `,
  },
  {
    version: 8,
    description:
      "handlers.start_event (start_events goes); the index of ended handlers is made by retention only",
    sql: `
      -- In the row the run's first commit writes anyway: keeping it costs no b-tree of its own.
      ALTER TABLE handlers ADD COLUMN start_event TEXT;  -- JSON of the WorkflowEvent; NULL when none is kept
      UPDATE handlers SET start_event = s.event FROM start_events s WHERE s.handler_id = handlers.handler_id;
      DROP TRIGGER start_events_of_deleted_handler;
      DROP TABLE start_events;
      -- Every run's end wrote an entry in it; only retention reads it: prepareRetention makes it again.
      DROP INDEX handlers_ended;
    `,
  },
];

/** The schema version this code writes and reads. */
export const LATEST_VERSION = migrations[migrations.length - 1]?.version ?? 0;

/**
 * Brings the database's schema up to {@link LATEST_VERSION}. Runs in one IMMEDIATE transaction, so
 * that two processes starting at once apply each migration once; running it again changes nothing.
 * Throws when the database was written by a newer version of this library.
 *
 * @returns the versions it applied (empty when the schema was already current)
 */
export function migrate(db: Database.Database): number[] {
  const run = db.transaction((): number[] => {
    const current = db.pragma("user_version", { simple: true }) as number;
    if (current > LATEST_VERSION) {
      throw new Error(
        `The database's schema version is ${current}, newer than this library's (${LATEST_VERSION}): upgrade the library`,
      );
    }
    const applied: number[] = [];
    for (const migration of migrations) {
      if (migration.version <= current) continue;
      db.exec(migration.sql);
      db.pragma(`user_version = ${migration.version}`);
      applied.push(migration.version);
    }
    return applied;
  });
  return run.immediate();
}
