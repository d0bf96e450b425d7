import { mkdirSync } from "node:fs";
import { dirname, resolve } from "node:path";
import Database from "better-sqlite3";
import type { PublishedEvent, RunState, RunStatus } from "../../core/index.js";
import { decodeCursor, encodeCursor } from "../cursor.js";
import { checkAfterSequence, checkListLimit, checkReadLimit, checkSequence } from "../limits.js";
import { changedHandlerIds, StoreListeners } from "../listeners.js";
import {
  type CommitBatch,
  DuplicateInboxItemError,
  type HandlerPage,
  type HandlerRecord,
  type InboxItem,
  type ListHandlersQuery,
  SequenceConflictError,
  type Store,
  StoreClosedError,
} from "../store.js";
import { migrate } from "./migrations.js";

export interface SqliteStoreOptions {
  /**
   * How hard SQLite works to make each commit durable (the database always runs in WAL mode).
   *
   * - `"full"` (default): every commit is fsynced before it resolves. A commit that resolved
   *   survives a crash of the process and a power loss or OS crash.
   * - `"normal"`: commits are written to the WAL but only fsynced at checkpoints. A commit that
   *   resolved survives a crash of the process (the OS still has it); a power loss or OS crash may
   *   lose the last commits (never corrupting the database). Several times faster for small commits.
   */
  synchronous?: "full" | "normal";
  /** How long a write waits for another process's lock before failing with SQLITE_BUSY. Default 5000. */
  busyTimeoutMs?: number;
}

interface HandlerRow {
  handler_id: string;
  workflow_name: string;
  run_id: string;
  status: RunStatus;
  result: string;
  error: string | null;
  started_at: string;
  updated_at: string;
  completed_at: string | null;
}

type Statement = Database.Statement<unknown[], unknown>;

/** Every statement the store runs, prepared once when the database is opened. */
interface Statements {
  upsertHandler: Statement;
  insertEvent: Statement;
  upsertState: Statement;
  deleteInboxItem: Statement;
  getHandler: Statement;
  listRunning: Statement;
  readEvents: Statement;
  lastSequence: Statement;
  loadState: Statement;
  appendInbox: Statement;
  readInbox: Statement;
  deleteHandler: Statement;
  deleteEvents: Statement;
  deleteState: Statement;
  deleteInbox: Statement;
}

interface Opened {
  db: Database.Database;
  statements: Statements;
  commit: Database.Transaction<(batch: CommitBatch) => void>;
  deleteHandler: Database.Transaction<(handlerId: string) => boolean>;
  /** Listing statements by the shape of their filters (number of statuses, of names, cursor or not). */
  listings: Map<string, Statement>;
}

const MAX_CACHED_LISTINGS = 64;
/** SQLite's page cache per connection (its default is 2 MiB). */
const CACHE_KIB = 16 * 1024;

/**
 * The embedded, durable store: one SQLite file (better-sqlite3) in WAL mode. The parent directory is
 * created when missing; `":memory:"` keeps everything in memory. The schema is created or migrated
 * on the first use (or by `init()`), in a transaction, so several processes may open one file.
 *
 * better-sqlite3 is synchronous: each method does its work at once and returns a settled promise;
 * errors become rejections. `commit` runs one transaction of prepared statements, however many
 * handlers the batch holds: batching many runs' changes into one commit is what makes it fast.
 *
 * @example
 * const server = new WorkflowServer({ store: new SqliteStore(".workflows/workflows.db") });
 */
export class SqliteStore implements Store {
  readonly path: string;
  readonly #synchronous: "full" | "normal";
  readonly #busyTimeoutMs: number;
  readonly #listeners = new StoreListeners();
  #opened: Opened | null = null;
  #closed = false;

  constructor(path: string, options: SqliteStoreOptions = {}) {
    const synchronous = options.synchronous ?? "full";
    if (synchronous !== "full" && synchronous !== "normal") {
      throw new TypeError(`synchronous must be "full" or "normal", got ${String(synchronous)}`);
    }
    const busyTimeoutMs = options.busyTimeoutMs ?? 5000;
    if (!Number.isSafeInteger(busyTimeoutMs) || busyTimeoutMs < 0) {
      throw new TypeError(`busyTimeoutMs must be a non-negative integer, got ${busyTimeoutMs}`);
    }
    this.path = path;
    this.#synchronous = synchronous;
    this.#busyTimeoutMs = busyTimeoutMs;
  }

  async init(): Promise<void> {
    this.#open();
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#listeners.clear();
    const opened = this.#opened;
    this.#opened = null;
    if (opened === null) return;
    try {
      opened.db.pragma("optimize");
    } catch {
      // Only a hint to the query planner: a busy database must not make close fail.
    }
    opened.db.close();
  }

  async commit(batch: CommitBatch): Promise<void> {
    this.#open().commit.immediate(batch);
    this.#listeners.notify(changedHandlerIds(batch));
  }

  async getHandler(handlerId: string): Promise<HandlerRecord | null> {
    const row = this.#open().statements.getHandler.get(handlerId) as HandlerRow | undefined;
    return row === undefined ? null : toRecord(row);
  }

  async listHandlers(query: ListHandlersQuery): Promise<HandlerPage> {
    const opened = this.#open();
    checkListLimit(query.limit);
    const after = query.cursor == null ? null : decodeCursor(query.cursor);
    const statuses = [...new Set(query.status ?? [])];
    const names = [...new Set(query.workflowName ?? [])];
    const statement = this.#listing(opened, statuses.length, names.length, after !== null);
    const params: (string | number)[] = [...statuses, ...names];
    if (after !== null) params.push(after.startedAt, after.handlerId);
    params.push(query.limit + 1);
    const rows = statement.all(...params) as HandlerRow[];
    const more = rows.length > query.limit;
    if (more) rows.pop();
    const last = rows[rows.length - 1];
    return {
      handlers: rows.map(toRecord),
      nextCursor:
        more && last ? encodeCursor({ startedAt: last.started_at, handlerId: last.handler_id }) : null,
    };
  }

  async listRunning(): Promise<HandlerRecord[]> {
    return (this.#open().statements.listRunning.all() as HandlerRow[]).map(toRecord);
  }

  async readEvents(handlerId: string, afterSequence: number, limit: number): Promise<PublishedEvent[]> {
    const { statements } = this.#open();
    checkAfterSequence(afterSequence);
    checkReadLimit(limit);
    if (limit === 0) return [];
    const rows = statements.readEvents.all(handlerId, afterSequence, limit) as string[];
    return rows.map((json) => JSON.parse(json) as PublishedEvent);
  }

  async lastSequence(handlerId: string): Promise<number> {
    const last = this.#open().statements.lastSequence.get(handlerId) as number | undefined;
    return last ?? -1;
  }

  async loadState(handlerId: string): Promise<RunState | null> {
    const json = this.#open().statements.loadState.get(handlerId) as string | undefined;
    return json === undefined ? null : (JSON.parse(json) as RunState);
  }

  async appendInbox(handlerId: string, item: InboxItem): Promise<void> {
    const { statements } = this.#open();
    const json = JSON.stringify({
      id: item.id,
      event: item.event,
      step: item.step ?? null,
      receivedAt: item.receivedAt,
    });
    try {
      statements.appendInbox.run(handlerId, item.id, json);
    } catch (error) {
      if (isConstraintError(error, "SQLITE_CONSTRAINT_UNIQUE"))
        throw new DuplicateInboxItemError(handlerId, item.id, { cause: error });
      throw error;
    }
    this.#listeners.notify([handlerId]);
  }

  async readInbox(handlerId: string): Promise<InboxItem[]> {
    const rows = this.#open().statements.readInbox.all(handlerId) as string[];
    return rows.map((json) => JSON.parse(json) as InboxItem);
  }

  async deleteHandler(handlerId: string): Promise<boolean> {
    return this.#open().deleteHandler.immediate(handlerId);
  }

  /**
   * Notifies about this instance's own writes only: several processes may share the file, but a
   * server that must see another process's writes live needs a shared store (Postgres).
   */
  subscribe(listener: (handlerIds: readonly string[]) => void): () => void {
    return this.#listeners.add(listener);
  }

  /** The result of `PRAGMA integrity_check`: `"ok"` for a sound database, else the problems, one a line. */
  integrityCheck(): string {
    const rows = this.#open().db.pragma("integrity_check") as { integrity_check: string }[];
    return rows.map((row) => row.integrity_check).join("\n");
  }

  #open(): Opened {
    if (this.#closed) throw new StoreClosedError();
    this.#opened ??= this.#connect();
    return this.#opened;
  }

  #connect(): Opened {
    const inMemory = this.path === ":memory:" || this.path === "";
    if (!inMemory) mkdirSync(dirname(resolve(this.path)), { recursive: true });
    const db = new Database(this.path, { timeout: this.#busyTimeoutMs });
    try {
      db.pragma("journal_mode = WAL");
      db.pragma(`synchronous = ${this.#synchronous === "full" ? "FULL" : "NORMAL"}`);
      db.pragma(`cache_size = -${CACHE_KIB}`);
      migrate(db);
      return prepare(db);
    } catch (error) {
      db.close();
      throw error;
    }
  }

  #listing(opened: Opened, statuses: number, names: number, cursor: boolean): Statement {
    const key = `${statuses}:${names}:${cursor ? 1 : 0}`;
    let statement = opened.listings.get(key);
    if (statement === undefined) {
      const where: string[] = [];
      if (statuses > 0) where.push(`status IN (${placeholders(statuses)})`);
      if (names > 0) where.push(`workflow_name IN (${placeholders(names)})`);
      if (cursor) where.push("(started_at, handler_id) < (?, ?)");
      statement = opened.db.prepare(
        `SELECT * FROM handlers ${where.length ? `WHERE ${where.join(" AND ")}` : ""}
         ORDER BY started_at DESC, handler_id DESC LIMIT ?`,
      );
      // Long lists of workflow names make many shapes; keep the cache bounded.
      if (opened.listings.size >= MAX_CACHED_LISTINGS) opened.listings.clear();
      opened.listings.set(key, statement);
    }
    return statement;
  }
}

function prepare(db: Database.Database): Opened {
  const statements: Statements = {
    upsertHandler: db.prepare(
      `INSERT INTO handlers (handler_id, workflow_name, run_id, status, result, error, started_at, updated_at, completed_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (handler_id) DO UPDATE SET
         workflow_name = excluded.workflow_name, run_id = excluded.run_id, status = excluded.status,
         result = excluded.result, error = excluded.error, started_at = excluded.started_at,
         updated_at = excluded.updated_at, completed_at = excluded.completed_at`,
    ),
    insertEvent: db.prepare("INSERT INTO events (handler_id, sequence, envelope) VALUES (?, ?, ?)"),
    upsertState: db.prepare(
      "INSERT INTO states (handler_id, state) VALUES (?, ?) ON CONFLICT (handler_id) DO UPDATE SET state = excluded.state",
    ),
    deleteInboxItem: db.prepare("DELETE FROM inbox WHERE handler_id = ? AND item_id = ?"),
    getHandler: db.prepare("SELECT * FROM handlers WHERE handler_id = ?"),
    listRunning: db.prepare(
      "SELECT * FROM handlers WHERE status = 'running' ORDER BY started_at, handler_id",
    ),
    readEvents: db
      .prepare("SELECT envelope FROM events WHERE handler_id = ? AND sequence > ? ORDER BY sequence LIMIT ?")
      .pluck(),
    lastSequence: db
      .prepare("SELECT sequence FROM events WHERE handler_id = ? ORDER BY sequence DESC LIMIT 1")
      .pluck(),
    loadState: db.prepare("SELECT state FROM states WHERE handler_id = ?").pluck(),
    appendInbox: db.prepare("INSERT INTO inbox (handler_id, item_id, item) VALUES (?, ?, ?)"),
    readInbox: db.prepare("SELECT item FROM inbox WHERE handler_id = ? ORDER BY position").pluck(),
    deleteHandler: db.prepare("DELETE FROM handlers WHERE handler_id = ?"),
    deleteEvents: db.prepare("DELETE FROM events WHERE handler_id = ?"),
    deleteState: db.prepare("DELETE FROM states WHERE handler_id = ?"),
    deleteInbox: db.prepare("DELETE FROM inbox WHERE handler_id = ?"),
  };

  const commit = db.transaction((batch: CommitBatch) => {
    // A group commit may carry several versions of one handler's record and state: only the last counts.
    for (const r of lastById(batch.handlers ?? [])) {
      statements.upsertHandler.run(
        r.handlerId,
        r.workflowName,
        r.runId,
        r.status,
        JSON.stringify(r.result ?? null),
        r.error ?? null,
        r.startedAt,
        r.updatedAt,
        r.completedAt ?? null,
      );
    }
    for (const group of batch.events ?? []) {
      for (const event of group.events) {
        checkSequence(group.handlerId, event.sequence);
        try {
          statements.insertEvent.run(group.handlerId, event.sequence, event.json);
        } catch (error) {
          if (isConstraintError(error, "SQLITE_CONSTRAINT_PRIMARYKEY"))
            throw new SequenceConflictError(group.handlerId, event.sequence, { cause: error });
          throw error;
        }
      }
    }
    for (const s of lastById(batch.states ?? []))
      statements.upsertState.run(s.handlerId, s.json);
    for (const done of batch.inboxDone ?? []) {
      for (const id of done.ids) statements.deleteInboxItem.run(done.handlerId, id);
    }
  });

  const deleteHandler = db.transaction((handlerId: string): boolean => {
    const existed = statements.deleteHandler.run(handlerId).changes > 0;
    statements.deleteEvents.run(handlerId);
    statements.deleteState.run(handlerId);
    statements.deleteInbox.run(handlerId);
    return existed;
  });

  return { db, statements, commit, deleteHandler, listings: new Map() };
}

function toRecord(row: HandlerRow): HandlerRecord {
  return {
    handlerId: row.handler_id,
    workflowName: row.workflow_name,
    runId: row.run_id,
    status: row.status,
    result: JSON.parse(row.result) as unknown,
    error: row.error,
    startedAt: row.started_at,
    updatedAt: row.updated_at,
    completedAt: row.completed_at,
  };
}

function isConstraintError(error: unknown, code: string): boolean {
  return error instanceof Database.SqliteError && error.code === code;
}

/** The items of `list` with the last one of each `handlerId`, without copying when there are no repeats. */
function lastById<T extends { handlerId: string }>(list: readonly T[]): Iterable<T> {
  if (list.length < 2) return list;
  const last = new Map<string, T>();
  for (const item of list) last.set(item.handlerId, item);
  return last.size === list.length ? list : last.values();
}

function placeholders(n: number): string {
  return Array.from({ length: n }, () => "?").join(", ");
}
