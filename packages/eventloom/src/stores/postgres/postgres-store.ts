import { randomUUID } from "node:crypto";
import type { PublishedEvent, RunState } from "../../core/index.js";
import { decodeCursor, encodeCursor } from "../cursor.js";
import { IdempotencyKeyConflictError, type IdempotencyRecord } from "../idempotency.js";
import type { FencedCommitBatch, Lease, LeaseStore } from "../leases.js";
import { checkAfterSequence, checkListLimit, checkReadLimit, errorChars } from "../limits.js";
import { changedHandlerIds, StoreListeners } from "../listeners.js";
import {
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
import { ChangeFeed, listenSettings } from "./change-feed.js";
import { commitError, isKeyTaken } from "./commit-errors.js";
import { commitParams, isEmpty, keyParams } from "./commit-params.js";
import { Connections } from "./connections.js";
import { type InboxWriteContext, writeInboxItem } from "./inbox-writes.js";
import { acquireLeases, LeaseBatches, renewLeases } from "./lease-batches.js";
import { migrate, migrations } from "./migrations.js";
import {
  type ListenState,
  type PostgresConnectionOptions,
  type PostgresStoreLogger,
  type PostgresStoreOptions,
  silentLogger,
} from "./options.js";
import { groupedReads } from "./read-batches.js";
import { checkLeaseArgs, toKeyRecord, toLease, toRecord } from "./rows.js";
import { admitQueued, queuedKeys, queuePosition } from "./run-queue.js";
import { claimFire, listRows, type ScheduleStatements, scheduleStatements } from "./schedule-rows.js";
import {
  buildStatements,
  type HandlerRow,
  type KeyRow,
  type LeaseRow,
  type Statements,
} from "./statements.js";
import { answeredWithin, toStoreError } from "./store-errors.js";

const SCHEMA_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;
/**
 * A store in PostgreSQL, for several server processes sharing one database. Writes are batched into
 * single statements; every commit NOTIFYs the handlers it changed, so that each process's
 * `subscribe` listeners hear about the others' writes (with a polling fallback while the LISTEN
 * connection is down). Leases with fencing tokens ({@link LeaseStore}) let processes share the
 * running handlers safely. A lost connection surfaces as a `WorkflowError` with code
 * `STORE_UNAVAILABLE`; the pool reconnects by itself when the database is back.
 *
 * @example
 * const store = new PostgresStore("postgres://app@db/app", { schema: "workflows" });
 * await store.init();
 * const server = new WorkflowServer({ store });
 */
export class PostgresStore implements Store, LeaseStore {
  readonly #db: Connections;
  readonly #sql: Statements;
  readonly #schedules: ScheduleStatements;
  readonly #schema: string;
  readonly #channel: string;
  readonly #origin = randomUUID();
  readonly #listeners = new StoreListeners();
  readonly #feed: ChangeFeed;
  readonly #logger: PostgresStoreLogger;
  readonly #migrationLockMs: number;
  readonly #leases = new LeaseBatches((owner, ttlMs, ids) =>
    acquireLeases(this.#db, this.#sql, owner, ttlMs, ids),
  );
  /** Reads asked for in one turn go in one statement per kind (read-batches.ts). */
  readonly #reads = groupedReads(
    () => this.#db,
    () => this.#sql,
  );
  readonly #readyMs: number;
  /** The commit statement's name on each connection (see `prepareCommit`), or undefined. */
  readonly #commitName: string | undefined;
  readonly #inbox: InboxWriteContext;
  #initializing: Promise<void> | null = null;
  #closing: Promise<void> | null = null;

  constructor(connection: string | PostgresConnectionOptions, options: PostgresStoreOptions = {}) {
    this.#schema = options.schema ?? "workflows";
    if (!SCHEMA_NAME.test(this.#schema)) {
      throw new TypeError(`Invalid schema name "${this.#schema}": use letters, digits and _ (at most 63)`);
    }
    this.#channel = options.channel ?? `workflows_changes:${this.#schema}`;
    if (Buffer.byteLength(this.#channel) > 63)
      throw new TypeError(`Channel name "${this.#channel}" is too long`);
    this.#logger = options.logger ?? silentLogger;
    this.#commitName = options.prepareCommit === false ? undefined : "eventloom_commit";
    this.#sql = buildStatements(this.#schema);
    this.#schedules = scheduleStatements(this.#schema);

    this.#db = new Connections(connection, this.#logger, {
      statementMs: options.statementTimeoutMs ?? 30_000,
      lockMs: options.lockTimeoutMs ?? 10_000,
    });
    this.#migrationLockMs = options.migrationLockTimeoutMs ?? 5_000;
    this.#readyMs = options.readyTimeoutMs ?? 2_000;
    this.#feed = new ChangeFeed({
      connection: listenSettings(options.listenConnection ?? this.#db.base),
      pool: this.#db.pool,
      channel: this.#channel,
      changesTable: this.#sql.tables.changes,
      origin: this.#origin,
      pollIntervalMs: options.pollIntervalMs ?? 1000,
      heartbeatMs: options.heartbeatMs ?? 5_000,
      deliver: (ids) => this.#listeners.notify(ids),
      onStateChange: (state) => options.onListenStateChange?.(state),
      logger: this.#logger,
    });
    this.#inbox = { db: this.#db, channel: this.#channel, origin: this.#origin };
  }

  /** Whether other processes' changes arrive by LISTEN right now, or by polling. */
  get listenState(): ListenState {
    return this.#feed.state;
  }

  /** Applies pending migrations (safe when several processes start at once), then starts listening. */
  init(): Promise<void> {
    if (this.#db.closed) return Promise.reject(new StoreClosedError());
    this.#initializing ??= this.#db.track(this.#init()).catch((error: unknown) => {
      this.#initializing = null;
      throw error;
    });
    return this.#initializing;
  }

  async #init(): Promise<void> {
    await this.#db.withClient((client) =>
      migrate(client, this.#schema, migrations, { lockTimeoutMs: this.#migrationLockMs }),
    );
    try {
      await this.#feed.start();
    } catch (error) {
      throw toStoreError(error);
    }
  }

  /** Finishes the calls in flight, then stops listening and closes every connection. */
  close(): Promise<void> {
    this.#db.markClosed();
    this.#closing ??= (async () => {
      await this.#db.drain();
      this.#listeners.clear();
      await this.#feed.stop();
      await this.#db.pool.end();
    })();
    return this.#closing;
  }

  commit(batch: FencedCommitBatch): Promise<void> {
    if (this.#db.closed) return Promise.reject(new StoreClosedError());
    return this.#db.track(this.#commit(batch));
  }

  async #commit(batch: FencedCommitBatch): Promise<void> {
    const params = commitParams(batch, this.#channel, this.#origin);
    const ids = changedHandlerIds(batch);
    if (isEmpty(batch)) return;
    try {
      // One statement: fence check, writes and notices (see statements.ts).
      await this.#db.statement(this.#sql.commit, params, this.#commitName);
    } catch (error) {
      throw await commitError(error, batch, (text, values) => this.#db.statement(text, values), this.#sql);
    }
    this.#feed.seen(ids);
    this.#listeners.notify(ids);
  }

  getHandler(handlerId: string): Promise<HandlerRecord | null> {
    return this.#db.track(this.#reads.handler.read(handlerId));
  }

  async listHandlers(query: ListHandlersQuery): Promise<HandlerPage> {
    this.#db.open();
    checkListLimit(query.limit);
    const after = query.cursor == null ? null : decodeCursor(query.cursor);
    const sql = query.blocked === true ? this.#sql.listBlockedHandlers : this.#sql.listHandlers;
    const { rows } = await this.#db.query<HandlerRow>(sql, [
      query.status?.length ? query.status : null,
      query.workflowName?.length ? query.workflowName : null,
      after?.startedAt ?? null,
      after?.handlerId ?? null,
      query.limit + 1,
      String(query.maxResultBytes ?? Number.MAX_SAFE_INTEGER),
      query.blocked ?? null,
      query.parentHandlerId ?? null,
      String(query.maxErrorBytes ?? Number.MAX_SAFE_INTEGER),
      errorChars(query.maxErrorBytes ?? Number.MAX_SAFE_INTEGER),
    ]);
    const page = rows.slice(0, query.limit);
    const last = page[page.length - 1];
    return {
      handlers: page.map(toRecord),
      nextCursor:
        rows.length > query.limit && last
          ? encodeCursor({ startedAt: last.started_at, handlerId: last.handler_id })
          : null,
    };
  }

  async listRunning(): Promise<HandlerRecord[]> {
    const { rows } = await this.#db.query<HandlerRow>(this.#sql.listRunning, []);
    return rows.map(toRecord);
  }

  async dueWakes(before: number, limit: number): Promise<DueWake[]> {
    const { rows } = await this.#db.query<{ handlerId: string; wakeAt: string }>(this.#sql.dueWakes, [
      before,
      limit,
    ]);
    return rows.map((r) => ({ handlerId: r.handlerId, wakeAt: Number(r.wakeAt) }));
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
    this.#db.open();
    checkAfterSequence(afterSequence);
    checkReadLimit(limit);
    if (limit === 0) return [];
    // The column is json (not jsonb): its text is what was committed.
    const bounded = maxBytes !== undefined && Number.isFinite(maxBytes);
    const params = [handlerId, String(afterSequence), String(limit)];
    if (bounded) params.push(String(Math.max(1, Math.ceil(maxBytes))));
    const { rows } = await this.#db.query<{ sequence: string; event: string }>(
      bounded ? this.#sql.readEventsBounded : this.#sql.readEvents,
      params,
    );
    return rows.map((r) => ({ sequence: Number(r.sequence), json: r.event }));
  }

  async lastSequence(handlerId: string): Promise<number> {
    const { rows } = await this.#db.query<{ last: string }>(this.#sql.lastSequence, [handlerId]);
    return Number(rows[0]?.last ?? -1);
  }

  loadState(handlerId: string): Promise<RunState | null> {
    return this.#db.track(this.#reads.state.read(handlerId));
  }

  async appendInbox(handlerId: string, item: InboxItem, key?: IdempotencyRecord): Promise<void> {
    await this.#writeInbox(this.#sql.appendInbox, handlerId, item, key);
  }

  async appendInboxLeased(handlerId: string, item: InboxItem, key?: IdempotencyRecord): Promise<boolean> {
    const rows = await this.#writeInbox(this.#sql.appendInboxLeased, handlerId, item, key);
    return (rows[0] as { leased?: boolean } | undefined)?.leased === true;
  }

  async #writeInbox(sql: string, handlerId: string, item: InboxItem, key?: IdempotencyRecord) {
    const rows = await writeInboxItem(this.#inbox, sql, handlerId, item, key);
    this.#feed.seen([handlerId]);
    this.#listeners.notify([handlerId]);
    return rows;
  }

  readInbox(handlerId: string): Promise<InboxItem[]> {
    return this.#db.track(this.#reads.inbox.read(handlerId));
  }

  /**
   * Deletes the handler, everything stored for it and its lease (so its old owner's fenced commits
   * fail), taking the lease row first, in the lock order of commits.
   */
  async deleteHandler(handlerId: string, key?: IdempotencyRecord): Promise<boolean> {
    try {
      this.#db.open();
      const { rows } = await this.#db.track(
        this.#db.transaction(async (client) => {
          // The lease row first, as commits lock it: the owner's commit in flight ends before the
          // deletion's snapshot is taken, and none after it is accepted (no row left behind).
          await client.query(this.#sql.takeForPurge, [handlerId]);
          return client.query<{ deleted: number }>(this.#sql.deleteHandler, [handlerId, ...keyParams(key)]);
        }),
      );
      return (rows[0]?.deleted ?? 0) > 0;
    } catch (error) {
      if (key && isKeyTaken(error))
        throw new IdempotencyKeyConflictError(key.key, key.handlerId, { cause: error });
      throw error;
    }
  }

  async getStartEvent(handlerId: string): Promise<string | null> {
    const { rows } = await this.#db.query<{ event: string }>(this.#sql.getStartEvent, [handlerId]);
    return rows[0]?.event ?? null;
  }

  claimScheduleFire(claim: ScheduleClaim): Promise<boolean> {
    return claimFire(this.#db, this.#schedules, claim);
  }

  listSchedules(scheduleIds: readonly string[]): Promise<ScheduleRow[]> {
    return listRows(this.#db, this.#schedules, scheduleIds);
  }

  async getIdempotencyKey(key: string): Promise<IdempotencyRecord | null> {
    const { rows } = await this.#db.query<KeyRow>(this.#sql.getKey, [key]);
    return rows[0] ? toKeyRecord(rows[0]) : null;
  }

  async putIdempotencyKey(record: IdempotencyRecord): Promise<IdempotencyRecord> {
    const { rows } = await this.#db.query<KeyRow>(this.#sql.putKey, keyParams(record));
    if (rows[0]) return toKeyRecord(rows[0]);
    // Kept as stored: read it in a statement of its own (the insert's snapshot may predate it).
    const stored = await this.getIdempotencyKey(record.key);
    if (stored === null) throw new Error(`Idempotency key "${record.key}" vanished while it was written`);
    return stored;
  }

  async deleteIdempotencyKeys(createdBefore: string, limit: number): Promise<number> {
    checkListLimit(limit);
    const result = await this.#db.query(this.#sql.deleteKeys, [createdBefore, limit]);
    return result.rowCount ?? 0;
  }

  /** Retention, in one statement; Postgres reuses the space (autovacuum), so there is no reclaimSpace. */
  async deleteEnded(cutoffs: EndedCutoffs, limit: number): Promise<string[]> {
    this.#db.open();
    checkListLimit(limit);
    const args = [cutoffs.completed ?? null, cutoffs.failed ?? null, cutoffs.cancelled ?? null, limit];
    const { rows } = await this.#db.query<{ handler_id: string }>(this.#sql.deleteEnded, args);
    return rows.map((r) => r.handler_id);
  }

  admitQueued(limitKey: string, limit: number): Promise<string[]> {
    return admitQueued(this.#db, this.#sql, limitKey, limit);
  }

  queuePosition(handlerId: string): Promise<number | null> {
    return queuePosition(this.#db, this.#sql, handlerId);
  }

  queuedKeys(limit: number): Promise<string[]> {
    return queuedKeys(this.#db, this.#sql, limit);
  }

  subscribe(listener: (handlerIds: readonly string[]) => void): () => void {
    return this.#listeners.add(listener);
  }

  /** Acquisitions of one owner in one turn of the event loop share one statement (lease-batches.ts). */
  acquireLease(handlerId: string, owner: string, ttlMs: number): Promise<Lease | null> {
    try {
      this.#db.open();
      checkLeaseArgs(owner, ttlMs);
    } catch (error) {
      return Promise.reject(error);
    }
    return this.#db.track(this.#leases.acquire(handlerId, owner, Math.ceil(ttlMs)));
  }

  async renewLeases(owner: string, handlerIds: readonly string[], ttlMs: number): Promise<string[]> {
    checkLeaseArgs(owner, ttlMs);
    return renewLeases(this.#db, this.#sql, owner, handlerIds, ttlMs);
  }

  async releaseLease(handlerId: string, owner: string): Promise<boolean> {
    const result = await this.#db.query(this.#sql.releaseLease, [handlerId, owner]);
    return (result.rowCount ?? 0) > 0;
  }

  async getLease(handlerId: string): Promise<Lease | null> {
    const { rows } = await this.#db.query<LeaseRow>(this.#sql.getLease, [handlerId]);
    return rows[0] ? toLease(rows[0]) : null;
  }

  async listExpiredRunning(limit: number, now: number = Number.MAX_SAFE_INTEGER): Promise<string[]> {
    checkListLimit(limit);
    const args = [limit, String(Math.floor(now))];
    const { rows } = await this.#db.query<{ handler_id: string }>(this.#sql.listExpiredRunning, args);
    return rows.map((r) => r.handler_id);
  }

  /**
   * `SELECT 1` on a pooled connection: a lost database, a full pool or no answer within
   * `readyTimeoutMs` (a partition) rejects with STORE_UNAVAILABLE.
   */
  async ready(): Promise<void> {
    await answeredWithin(this.#db.query("SELECT 1", []), this.#readyMs);
  }
}
