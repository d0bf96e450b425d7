import type Database from "better-sqlite3";
import type { PublishedEvent, RunState } from "../../core/index.js";
import { decodeCursor, encodeCursor } from "../cursor.js";
import type { IdempotencyRecord } from "../idempotency.js";
import { checkAfterSequence, checkListLimit, checkReadLimit, checkSequence } from "../limits.js";
import { changedHandlerIds, StoreListeners } from "../listeners.js";
import {
  type CommitBatch,
  type DueWake,
  type EndedCutoffs,
  type EventRow,
  type HandlerPage,
  type HandlerRecord,
  type InboxItem,
  type ListHandlersQuery,
  type ScheduleClaim,
  type ScheduleRow,
  type Store,
  StoreClosedError,
} from "../store.js";
import { FileGuard, identityOf } from "./file-guard.js";
import { type FileLock, lockFile } from "./file-lock.js";
import { migrate } from "./migrations.js";
import {
  cachedListing,
  capParams,
  type HandlerRow,
  type ListingShape,
  prepareReads,
  rowsWithin,
  type Statement,
  type Statements,
  toRecord,
} from "./reads.js";
import { toStoreError } from "./store-errors.js";
import type { SqliteStoreOptions } from "./store-options.js";
import { WriterThread } from "./writer.js";
import { packBatch, type WriterCall } from "./writer-protocol.js";
import { connect, ensureFolder, isInMemory, prepareWrites, type Writes } from "./writes.js";

export type { SqliteStoreOptions } from "./store-options.js";

interface Opened {
  db: Database.Database;
  statements: Statements;
  /** Writes on this connection, or null when the writer thread does them. */
  writes: Writes | null;
  /** Listing statements by the shape of their filters (number of statuses, of names, cursor or not). */
  listings: Map<string, Statement>;
  /** This store's hold on the file (null in memory): no other store may open it meanwhile. */
  lock: FileLock | null;
}

/** Free pages one `reclaimSpace` call gives back (8 MiB with SQLite's default 4 KiB pages). */
const RECLAIM_PAGES = 2048;

/**
 * The embedded, durable store: one SQLite file (better-sqlite3) in WAL mode. The parent directory is
 * created when missing; `":memory:"` keeps everything in memory. The schema is created or migrated
 * on the first use (or by `init()`).
 *
 * One store at a time has a file: the first use takes a lock that the OS releases when the process
 * ends, however it ends (a side file `<path>-lock` holds it and names its owner), and a second store
 * on the file, in another process or this one, fails with {@link StoreInUseError} (`STORE_IN_USE`)
 * until the first is closed or its process gone. Errors that mean the file cannot take writes now
 * (a full disk, a read-only or deleted file, an I/O error) are `STORE_UNAVAILABLE`, naming the cause.
 *
 * better-sqlite3 is synchronous. Reads run on the calling thread and return settled promises.
 * Writes run in a worker thread with a connection of its own (see `writer`), in the order they
 * were made; a write's promise settles once its transaction is committed (and, with `synchronous:
 * "full"`, on disk). `commit` runs one transaction however many handlers the batch holds: batching
 * many runs' changes into one commit is what makes it fast.
 *
 * @example
 * const server = new WorkflowServer({ store: new SqliteStore(".workflows/workflows.db") });
 */
export class SqliteStore implements Store {
  readonly path: string;
  readonly #synchronous: "full" | "normal";
  readonly #busyTimeoutMs: number;
  readonly #listeners = new StoreListeners();
  readonly #thread: WriterThread | null;
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
    const writer = options.writer ?? "thread";
    if (writer !== "thread" && writer !== "inline") {
      throw new TypeError(`writer must be "thread" or "inline", got ${String(writer)}`);
    }
    this.path = path;
    this.#synchronous = synchronous;
    this.#busyTimeoutMs = busyTimeoutMs;
    this.#thread =
      writer === "thread" && !isInMemory(path)
        ? new WriterThread(path, { synchronous, busyTimeoutMs })
        : null;
  }

  async init(): Promise<void> {
    this.#use(() => undefined);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#listeners.clear();
    const opened = this.#opened;
    this.#opened = null;
    // The writes already made finish first.
    await this.#thread?.close();
    if (opened === null) return;
    try {
      opened.db.pragma("optimize");
    } catch {
      // Only a hint to the query planner: a busy database must not make close fail.
    }
    opened.db.close();
    opened.lock?.release();
  }

  async commit(batch: CommitBatch): Promise<void> {
    const writes = this.#use((opened) => opened.writes);
    if (writes) {
      this.#use(() => writes.commit(batch));
    } else {
      // Checked here too, so that a bad batch fails before it is copied to the writer thread.
      for (const group of batch.events ?? [])
        for (const e of group.events) checkSequence(group.handlerId, e.sequence);
      await this.#write({ op: "commit", batch: packBatch(batch) });
    }
    this.#listeners.notify(changedHandlerIds(batch));
  }

  /**
   * The file guard's check and `BEGIN IMMEDIATE; ROLLBACK` on the writing connection: a deleted or
   * replaced file, a read-only file or connection, a lock held beyond the busy timeout reject
   * (STORE_UNAVAILABLE). Writes nothing, so a full disk shows in the next commit, not here.
   */
  async ready(): Promise<void> {
    await this.#writeVia((w) => w.probe(), { op: "probe" });
  }

  async getHandler(handlerId: string): Promise<HandlerRecord | null> {
    const row = this.#use((o) => o.statements.getHandler.get(handlerId)) as HandlerRow | undefined;
    return row === undefined ? null : toRecord(row);
  }

  async listHandlers(query: ListHandlersQuery): Promise<HandlerPage> {
    this.#use(() => undefined);
    checkListLimit(query.limit);
    const after = query.cursor == null ? null : decodeCursor(query.cursor);
    const statuses = [...new Set(query.status ?? [])];
    const names = [...new Set(query.workflowName ?? [])];
    const params: (string | number)[] = [...capParams(query), ...statuses, ...names];
    if (query.parentHandlerId !== undefined) params.push(query.parentHandlerId);
    if (after !== null) params.push(after.startedAt, after.handlerId);
    params.push(query.limit + 1);
    const shape: ListingShape = {
      statuses: statuses.length,
      names: names.length,
      cursor: after !== null,
      blocked: query.blocked,
      parent: query.parentHandlerId !== undefined,
    };
    const rows = this.#use((o) => cachedListing(o.db, o.listings, shape).all(...params)) as HandlerRow[];
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
    return (this.#use((o) => o.statements.listRunning.all()) as HandlerRow[]).map(toRecord);
  }

  async dueWakes(before: number, limit: number): Promise<DueWake[]> {
    return this.#use((o) => o.statements.dueWakes.all(before, limit)) as DueWake[];
  }

  async admitQueued(limitKey: string, limit: number): Promise<string[]> {
    return this.#writeVia((w) => w.admitQueued(limitKey, limit), { op: "admitQueued", limitKey, limit });
  }

  async queuePosition(handlerId: string): Promise<number | null> {
    return (this.#use((o) => o.statements.queuePosition.get(handlerId)) as number | undefined) || null;
  }

  async queuedKeys(limit: number): Promise<string[]> {
    return this.#use((o) => o.statements.queuedKeys.all(limit)) as string[];
  }

  async readEvents(handlerId: string, afterSequence: number, limit: number): Promise<PublishedEvent[]> {
    const rows = await this.readEventRows(handlerId, afterSequence, limit);
    return rows.map((row) => JSON.parse(row.json) as PublishedEvent);
  }

  async readEventRows(
    handlerId: string,
    afterSequence: number,
    limit: number,
    maxBytes?: number,
  ): Promise<EventRow[]> {
    this.#use(() => undefined);
    checkAfterSequence(afterSequence);
    checkReadLimit(limit);
    if (limit === 0) return [];
    const count =
      maxBytes === undefined
        ? limit
        : this.#use((o) => rowsWithin(o.statements, handlerId, afterSequence, limit, maxBytes));
    const rows = this.#use((o) => o.statements.readEvents.all(handlerId, afterSequence, count)) as [
      number,
      string,
    ][];
    return rows.map(([sequence, json]) => ({ sequence, json }));
  }

  async lastSequence(handlerId: string): Promise<number> {
    const last = this.#use((o) => o.statements.lastSequence.get(handlerId)) as number | undefined;
    return last ?? -1;
  }

  async loadState(handlerId: string): Promise<RunState | null> {
    const json = this.#use((o) => o.statements.loadState.get(handlerId)) as string | undefined;
    return json === undefined ? null : (JSON.parse(json) as RunState);
  }

  async appendInbox(handlerId: string, item: InboxItem, key?: IdempotencyRecord): Promise<void> {
    await this.#writeVia((w) => w.appendInbox(handlerId, item, key), {
      op: "appendInbox",
      handlerId,
      item,
      key,
    });
    this.#listeners.notify([handlerId]);
  }

  async readInbox(handlerId: string): Promise<InboxItem[]> {
    const rows = this.#use((o) => o.statements.readInbox.all(handlerId)) as string[];
    return rows.map((json) => JSON.parse(json) as InboxItem);
  }

  async deleteHandler(handlerId: string, key?: IdempotencyRecord): Promise<boolean> {
    return this.#writeVia((w) => w.deleteHandler(handlerId, key), { op: "deleteHandler", handlerId, key });
  }

  async getIdempotencyKey(key: string): Promise<IdempotencyRecord | null> {
    return this.#use((o) => o.statements.getKey(key));
  }

  async putIdempotencyKey(record: IdempotencyRecord): Promise<IdempotencyRecord> {
    return this.#writeVia((w) => w.putKey(record), { op: "putKey", record });
  }

  async getStartEvent(handlerId: string): Promise<string | null> {
    return (this.#use((o) => o.statements.getStartEvent.get(handlerId)) as string | undefined) ?? null;
  }

  async claimScheduleFire(claim: ScheduleClaim): Promise<boolean> {
    return this.#writeVia((w) => w.claimScheduleFire(claim), { op: "claimScheduleFire", claim });
  }

  async listSchedules(scheduleIds: readonly string[]): Promise<ScheduleRow[]> {
    return this.#use((o) => o.statements.listSchedules.all(JSON.stringify(scheduleIds))) as ScheduleRow[];
  }

  async deleteIdempotencyKeys(createdBefore: string, limit: number): Promise<number> {
    checkListLimit(limit);
    return this.#writeVia((w) => w.deleteKeys(createdBefore, limit), {
      op: "deleteKeys",
      createdBefore,
      limit,
    });
  }

  async deleteEnded(cutoffs: EndedCutoffs, limit: number): Promise<string[]> {
    checkListLimit(limit);
    return this.#writeVia((w) => w.deleteEnded(cutoffs, limit), { op: "deleteEnded", cutoffs, limit });
  }

  /**
   * Builds the index of ended handlers retention reads and converts the file to incremental vacuum,
   * each once, when missing: both rewrite (writes wait meanwhile), and both are quick on a new file.
   */
  async prepareRetention(): Promise<void> {
    await this.#writeVia((w) => w.prepareRetention(), { op: "prepareRetention" });
  }

  /**
   * Incremental vacuum of up to {@link RECLAIM_PAGES} free pages, then a checkpoint that hands them
   * back to the file system. A file without `auto_vacuum = INCREMENTAL` (prepareRetention was never
   * called) is converted by the first call instead, with one `VACUUM` (writes wait meanwhile).
   */
  async reclaimSpace(): Promise<boolean> {
    return this.#writeVia((w) => w.reclaimSpace(RECLAIM_PAGES), { op: "reclaimSpace", pages: RECLAIM_PAGES });
  }

  /**
   * Notifies about this instance's own writes, which are all the writes: one store at a time has
   * the file. Several processes that share handlers need a shared store (Postgres).
   */
  subscribe(listener: (handlerIds: readonly string[]) => void): () => void {
    return this.#listeners.add(listener);
  }

  /** The result of `PRAGMA integrity_check`: `"ok"` for a sound database, else the problems, one a line. */
  integrityCheck(): string {
    const rows = this.#use((o) => o.db.pragma("integrity_check")) as { integrity_check: string }[];
    return rows.map((row) => row.integrity_check).join("\n");
  }

  /** Runs `work` on the open database (opening it on first use); the file's faults become STORE_UNAVAILABLE. */
  #use<T>(work: (opened: Opened) => T): T {
    if (this.#closed) throw new StoreClosedError();
    try {
      this.#opened ??= this.#connect();
      return work(this.#opened);
    } catch (error) {
      throw toStoreError(error, this.path);
    }
  }

  /** A write on this thread's connection when it writes, else on the writer thread (`call`). */
  async #writeVia<T>(local: (writes: Writes) => T, call: WriterCall): Promise<T> {
    const writes = this.#use((opened) => opened.writes);
    return writes ? this.#use(() => local(writes)) : ((await this.#write(call)) as T);
  }

  /** A write on the writer thread; a store closed meanwhile fails it. */
  #write(call: Parameters<WriterThread["call"]>[0]): Promise<unknown> {
    if (this.#closed || this.#thread === null) return Promise.reject(new StoreClosedError());
    return this.#thread.call(call).catch((error: unknown) => {
      throw toStoreError(error, this.path);
    });
  }

  #connect(): Opened {
    const memory = isInMemory(this.path);
    if (!memory) ensureFolder(this.path);
    // Taken before anything is read or written: a second server must not even resume a run.
    const lock = memory ? null : lockFile(this.path);
    let db: Database.Database | null = null;
    try {
      // The schema is migrated here, before the writer thread opens its own connection.
      db = connect(this.path, { synchronous: this.#synchronous, busyTimeoutMs: this.#busyTimeoutMs });
      // Which file this is: every write checks that the path still leads to it (see FileGuard).
      const file = memory ? null : identityOf(this.path);
      migrate(db);
      this.#thread?.opened(file);
      return {
        db,
        statements: prepareReads(db),
        writes:
          this.#thread === null ? prepareWrites(db, memory ? null : new FileGuard(this.path, file)) : null,
        listings: new Map(),
        lock,
      };
    } catch (error) {
      db?.close();
      lock?.release();
      throw error;
    }
  }
}
