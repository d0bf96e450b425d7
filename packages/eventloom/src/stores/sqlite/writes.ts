import { mkdirSync } from "node:fs";
import { dirname, resolve } from "node:path";
import Database from "better-sqlite3";
import type { IdempotencyRecord } from "../idempotency.js";
import { checkSequence } from "../limits.js";
import {
  type CommitBatch,
  DuplicateInboxItemError,
  type EndedCutoffs,
  type HandlerRecord,
  type InboxItem,
  inboxItemJson,
  type ScheduleClaim,
  SequenceConflictError,
} from "../store.js";
import type { FileGuard } from "./file-guard.js";
import { prepareKeyWrites } from "./key-rows.js";
import { blockedJson } from "./reads.js";

/** Rows per multi-row INSERT of events (3 parameters each, far below SQLite's limit). */
const EVENTS_PER_INSERT = 64;

/** `PRAGMA auto_vacuum`'s value for INCREMENTAL. */
export const INCREMENTAL = 2;

/**
 * The index retention reads the oldest ended handlers by. Made by prepareRetention, not by the
 * migrations: a run's end writes an entry in it, about 8% more pages per commit.
 */
const ENDED_INDEX = `CREATE INDEX IF NOT EXISTS handlers_ended ON handlers (status, completed_at)
  WHERE status != 'running'`;

/** SQLite's page cache per connection (its default is 2 MiB). */
const CACHE_KIB = 16 * 1024;

export interface ConnectionOptions {
  synchronous: "full" | "normal";
  busyTimeoutMs: number;
  /** Fail instead of creating the file (the writer thread: the store's file must already exist). */
  fileMustExist?: boolean;
}

export const isInMemory = (path: string): boolean => path === ":memory:" || path === "";

/** Creates the folder of a database file when it is missing. */
export function ensureFolder(path: string): void {
  mkdirSync(dirname(resolve(path)), { recursive: true });
}

/** Opens a connection in WAL mode with the store's settings (the parent directory is created when missing). */
export function connect(path: string, options: ConnectionOptions): Database.Database {
  if (!isInMemory(path)) ensureFolder(path);
  const db = new Database(path, {
    timeout: options.busyTimeoutMs,
    fileMustExist: options.fileMustExist ?? false,
  });
  try {
    // auto_vacuum stays off until retention is prepared (prepareRetention converts the file then):
    // its pointer-map pages cost every commit about 5% more pages written.
    db.pragma("journal_mode = WAL");
    db.pragma(`synchronous = ${options.synchronous === "full" ? "FULL" : "NORMAL"}`);
    db.pragma(`cache_size = -${CACHE_KIB}`);
    return db;
  } catch (error) {
    db.close();
    throw error;
  }
}

/** The fields of a handler record a commit writes (its row's columns; the start event comes apart). */
export const WRITTEN_FIELDS = [
  "handlerId",
  "workflowName",
  "runId",
  "status",
  "result",
  "error",
  "startedAt",
  "updatedAt",
  "completedAt",
  "resumeAttempts",
  "workflowVersion",
  "blocked",
  "wakeAt",
  "parentHandlerId",
  "scheduleId",
  "limitKey",
  "queued",
] as const satisfies readonly (keyof HandlerRecord)[];

/** A handler record as a commit writes it: writes.ts cannot read a field that does not cross. */
export type WrittenRecord = Pick<HandlerRecord, (typeof WRITTEN_FIELDS)[number]>;

/** A commit as writes.ts takes it: a {@link CommitBatch}, its records cut to what is written. */
export type WriteBatch = Omit<CommitBatch, "handlers"> & { handlers?: readonly WrittenRecord[] };

/** Everything that writes: run in one connection, on the main thread or in the writer thread. */
export interface Writes {
  commit(batch: WriteBatch): void;
  appendInbox(handlerId: string, item: InboxItem, key?: IdempotencyRecord): void;
  deleteHandler(handlerId: string, key?: IdempotencyRecord): boolean;
  putKey(record: IdempotencyRecord): IdempotencyRecord;
  /** See `Store.claimScheduleFire`: the row, the handler and its start event in one transaction. */
  claimScheduleFire(claim: ScheduleClaim): boolean;
  deleteKeys(createdBefore: string, limit: number): number;
  /** Retention: see `Store.deleteEnded`. Selects and deletes in one transaction. */
  deleteEnded(cutoffs: EndedCutoffs, limit: number): string[];
  /** Run limits: see `Store.admitQueued`. Counts and admits in one transaction. */
  admitQueued(limitKey: string, limit: number): string[];
  /** Gives up to `pages` free pages back to the file system; true when more are left. */
  reclaimSpace(pages: number): boolean;
  /** See `Store.prepareRetention`: the index of ended handlers and incremental vacuum, each once. */
  prepareRetention(): void;
  /** Takes the write lock and lets it go, writing nothing: throws when the file cannot take writes. */
  probe(): void;
}

/**
 * Prepares the write statements of a connection whose schema is current. `guard` (null in memory)
 * checks after each write that the file is still at its path, before the write is acknowledged.
 */
export function prepareWrites(db: Database.Database, guard: FileGuard | null): Writes {
  const upsertHandler = db.prepare(
    `INSERT INTO handlers (handler_id, workflow_name, run_id, status, result, error, started_at, updated_at, completed_at,
                           resume_attempts, workflow_version, blocked,
                           wake_at, parent_handler_id, schedule_id, limit_key, queued, start_event)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (handler_id) DO UPDATE SET
       workflow_name = excluded.workflow_name, run_id = excluded.run_id, status = excluded.status,
       result = excluded.result, error = excluded.error, started_at = excluded.started_at,
       updated_at = excluded.updated_at, completed_at = excluded.completed_at,
       resume_attempts = excluded.resume_attempts, workflow_version = excluded.workflow_version,
       blocked = excluded.blocked, wake_at = excluded.wake_at,
       parent_handler_id = excluded.parent_handler_id, schedule_id = excluded.schedule_id,
       limit_key = excluded.limit_key, queued = excluded.queued,
       start_event = coalesce(excluded.start_event, handlers.start_event)`,
  );
  const insertEvent = db.prepare("INSERT INTO events (handler_id, sequence, envelope) VALUES (?, ?, ?)");
  const upsertState = db.prepare(
    "INSERT INTO states (handler_id, state) VALUES (?, ?) ON CONFLICT (handler_id) DO UPDATE SET state = excluded.state",
  );
  const deleteInboxItem = db.prepare("DELETE FROM inbox WHERE handler_id = ? AND item_id = ?");
  const appendInbox = db.prepare("INSERT INTO inbox (handler_id, item_id, item) VALUES (?, ?, ?)");
  const addInbox = db.prepare(
    `INSERT INTO inbox (handler_id, item_id, item) SELECT ?, ?, ?
     WHERE EXISTS (SELECT 1 FROM handlers WHERE handler_id = ? AND status = 'running')
     ON CONFLICT (handler_id, item_id) DO NOTHING`,
  );
  const deleteHandler = db.prepare("DELETE FROM handlers WHERE handler_id = ?");
  const deleteEvents = db.prepare("DELETE FROM events WHERE handler_id = ?");
  const deleteState = db.prepare("DELETE FROM states WHERE handler_id = ?");
  const deleteInbox = db.prepare("DELETE FROM inbox WHERE handler_id = ?");
  const keys = prepareKeyWrites(db);
  const putStartEvent = db.prepare("UPDATE handlers SET start_event = ? WHERE handler_id = ?");

  // Events go in with multi-row INSERTs of up to EVENTS_PER_INSERT rows: per row, one statement run
  // from JavaScript costs about a fifth of the insert itself.
  const insertMany = new Map<number, Database.Statement>();
  const insertOf = (rows: number): Database.Statement => {
    let statement = insertMany.get(rows);
    if (!statement) {
      statement = db.prepare(
        `INSERT INTO events (handler_id, sequence, envelope) VALUES ${Array(rows).fill("(?, ?, ?)").join(", ")}`,
      );
      insertMany.set(rows, statement);
    }
    return statement;
  };
  const insertOne = (handlerId: string, sequence: number, json: string): void => {
    try {
      insertEvent.run(handlerId, sequence, json);
    } catch (error) {
      if (isConstraintError(error, "SQLITE_CONSTRAINT_PRIMARYKEY"))
        throw new SequenceConflictError(handlerId, sequence, { cause: error });
      throw error;
    }
  };
  const insertEvents = (groups: NonNullable<CommitBatch["events"]>): void => {
    const params: (string | number)[] = [];
    const flush = (): void => {
      const rows = params.length / 3;
      if (rows === 0) return;
      try {
        insertOf(rows).run(params);
      } catch (error) {
        if (!isConstraintError(error, "SQLITE_CONSTRAINT_PRIMARYKEY")) throw error;
        // The statement wrote nothing; row by row, to name the event whose sequence is taken.
        for (let i = 0; i < params.length; i += 3) {
          insertOne(params[i] as string, params[i + 1] as number, params[i + 2] as string);
        }
      }
      params.length = 0;
    };
    for (const group of groups) {
      for (const event of group.events) {
        checkSequence(group.handlerId, event.sequence);
        params.push(group.handlerId, event.sequence, event.json);
        if (params.length === 3 * EVENTS_PER_INSERT) flush();
      }
    }
    flush();
  };

  const commit = db.transaction((batch: WriteBatch) => {
    // A start event goes in its handler's record, written in the same commit (CommitBatch.startEvents).
    const starts = startsById(batch.startEvents);
    // A group commit may carry several versions of one handler's record and state: only the last counts.
    for (const r of lastById(batch.handlers ?? [])) {
      const start = starts?.get(r.handlerId);
      if (start !== undefined) starts?.delete(r.handlerId);
      upsertHandler.run(
        r.handlerId,
        r.workflowName,
        r.runId,
        r.status,
        JSON.stringify(r.result ?? null),
        r.error ?? null,
        r.startedAt,
        r.updatedAt,
        r.completedAt ?? null,
        r.resumeAttempts ?? 0,
        r.workflowVersion ?? null,
        blockedJson(r.blocked),
        r.wakeAt ?? null,
        r.parentHandlerId ?? null,
        r.scheduleId ?? null,
        r.limitKey ?? null,
        r.queued ? 1 : 0,
        start ?? null,
      );
    }
    // One whose record is not in the batch: its row was written before.
    if (starts) for (const [handlerId, json] of starts) putStartEvent.run(json, handlerId);
    // After the records: a parent that starts in this batch is running already.
    for (const { handlerId, item } of batch.inboxAdd ?? [])
      addInbox.run(handlerId, item.id, inboxItemJson(item), handlerId);
    insertEvents(batch.events ?? []);
    for (const s of lastById(batch.states ?? [])) upsertState.run(s.handlerId, s.json);
    for (const done of batch.inboxDone ?? []) {
      for (const id of done.ids) deleteInboxItem.run(done.handlerId, id);
    }
    if (batch.keys?.length) keys.insert(batch.keys);
    if (batch.keyAnswers?.length) keys.answer(batch.keyAnswers);
  });

  const claimRow = db.prepare(
    `INSERT INTO schedules (schedule_id, last_fire_at, last_handler_id) VALUES (?, ?, ?)
     ON CONFLICT (schedule_id) DO UPDATE SET
       last_fire_at = excluded.last_fire_at, last_handler_id = excluded.last_handler_id
     WHERE schedules.last_fire_at < excluded.last_fire_at`,
  );
  const handlerExists = db.prepare("SELECT 1 FROM handlers WHERE handler_id = ?").pluck();
  const claimScheduleFire = db.transaction(({ scheduleId, fireAt, handler, startEvent }: ScheduleClaim) => {
    if (claimRow.run(scheduleId, fireAt, handler?.handlerId ?? null).changes === 0) return false;
    if (handler && handlerExists.get(handler.handlerId) === undefined) {
      const startEvents = startEvent === null ? [] : [{ handlerId: handler.handlerId, json: startEvent }];
      commit({ handlers: [handler], startEvents });
    }
    return true;
  });

  const removeOne = (handlerId: string): boolean => {
    const existed = deleteHandler.run(handlerId).changes > 0;
    deleteEvents.run(handlerId);
    deleteState.run(handlerId);
    deleteInbox.run(handlerId);
    return existed;
  };
  const remove = db.transaction((handlerId: string, key?: IdempotencyRecord): boolean => {
    if (key) keys.insert([key]);
    return removeOne(handlerId);
  });

  // `status != 'running'` written out: it lets SQLite use the partial index of ended handlers.
  const endedBefore = db
    .prepare(
      `SELECT handler_id, completed_at FROM handlers
       WHERE status != 'running' AND status = ? AND completed_at < ? AND blocked IS NULL
       ORDER BY completed_at, handler_id LIMIT ?`,
    )
    .raw();
  const deleteEnded = db.transaction((cutoffs: EndedCutoffs, limit: number): string[] => {
    const due: [string, string][] = [];
    for (const status of ["completed", "failed", "cancelled"] as const) {
      const cutoff = cutoffs[status];
      if (cutoff !== undefined) due.push(...(endedBefore.all(status, cutoff, limit) as [string, string][]));
    }
    due.sort((a, b) => (a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    const ids = due.slice(0, limit).map(([id]) => id);
    for (const id of ids) {
      removeOne(id);
      keys.forgetAnswers(id);
    }
    return ids;
  });

  const countAdmitted = db
    .prepare("SELECT count(*) FROM handlers WHERE limit_key = ? AND status = 'running' AND queued = 0")
    .pluck();
  const oldestQueued = db
    .prepare(
      `SELECT handler_id FROM handlers WHERE limit_key = ? AND status = 'running' AND queued = 1
       ORDER BY started_at, handler_id LIMIT ?`,
    )
    .pluck();
  const unqueue = db.prepare("UPDATE handlers SET queued = 0 WHERE handler_id = ?");
  const admitQueued = db.transaction((limitKey: string, limit: number): string[] => {
    const free = limit - (countAdmitted.get(limitKey) as number);
    if (free <= 0) return [];
    const ids = oldestQueued.all(limitKey, free) as string[];
    for (const id of ids) unqueue.run(id);
    return ids;
  });

  /** Converts the file to incremental vacuum, once, by rewriting it: false when it already was. */
  const convertToIncremental = (): boolean => {
    if (db.pragma("auto_vacuum", { simple: true }) === INCREMENTAL) return false;
    db.pragma("auto_vacuum = INCREMENTAL");
    db.exec("VACUUM");
    return true;
  };
  const prepareRetention = (): void => {
    db.exec(ENDED_INDEX);
    convertToIncremental();
  };
  const reclaimSpace = (pages: number): boolean => {
    if (!convertToIncremental()) db.pragma(`incremental_vacuum(${Math.max(1, Math.floor(pages))})`);
    // In WAL mode the file shrinks when the WAL is checkpointed; TRUNCATE empties the WAL file too.
    db.pragma("wal_checkpoint(TRUNCATE)");
    return (db.pragma("freelist_count", { simple: true }) as number) > 0;
  };

  const appendWithKey = db.transaction((handlerId: string, item: InboxItem, key: IdempotencyRecord) => {
    keys.insert([key]);
    insertInboxItem(handlerId, item);
  });

  const guarded = <T>(write: () => T): T => {
    guard?.before();
    const value = write();
    guard?.after();
    return value;
  };

  return {
    commit: (batch) => guarded(() => commit.immediate(batch)),
    deleteEnded: (cutoffs, limit) => guarded(() => deleteEnded.immediate(cutoffs, limit)),
    reclaimSpace: (pages) => guarded(() => reclaimSpace(pages)),
    prepareRetention: () => guarded(prepareRetention),
    admitQueued: (limitKey, limit) => guarded(() => admitQueued.immediate(limitKey, limit)),
    appendInbox: (handlerId, item, key) =>
      guarded(() => (key ? appendWithKey.immediate(handlerId, item, key) : insertInboxItem(handlerId, item))),
    deleteHandler: (handlerId, key) => guarded(() => remove.immediate(handlerId, key)),
    putKey: (record) => guarded(() => keys.put(record)),
    claimScheduleFire: (claim) => guarded(() => claimScheduleFire.immediate(claim)),
    deleteKeys: (createdBefore, limit) => guarded(() => keys.deleteBefore(createdBefore, limit)),
    probe: () =>
      guarded(() => {
        db.exec("BEGIN IMMEDIATE");
        db.exec("ROLLBACK");
      }),
  };

  function insertInboxItem(handlerId: string, item: InboxItem): void {
    try {
      appendInbox.run(handlerId, item.id, inboxItemJson(item));
    } catch (error) {
      if (isConstraintError(error, "SQLITE_CONSTRAINT_UNIQUE"))
        throw new DuplicateInboxItemError(handlerId, item.id, { cause: error });
      throw error;
    }
  }
}

function isConstraintError(error: unknown, code: string): boolean {
  return error instanceof Database.SqliteError && error.code === code;
}

/** The start events of a batch by handler (the last of each), or null when it has none. */
function startsById(list: CommitBatch["startEvents"]): Map<string, string> | null {
  if (!list?.length) return null;
  const starts = new Map<string, string>();
  for (const { handlerId, json } of list) starts.set(handlerId, json);
  return starts;
}

/** The items of `list` with the last one of each `handlerId`, without copying when there are no repeats. */
function lastById<T extends { handlerId: string }>(list: readonly T[]): Iterable<T> {
  if (list.length < 2) return list;
  const last = new Map<string, T>();
  for (const item of list) last.set(item.handlerId, item);
  return last.size === list.length ? list : last.values();
}
