// Test support, not shipped: a Store that fails writes at chosen points, for fault-injection tests.
import type {
  CommitBatch,
  HandlerPage,
  HandlerRecord,
  IdempotencyRecord,
  InboxItem,
  ListHandlersQuery,
  ScheduleClaim,
  Store,
} from "../../src/stores/store.js";

/** Which writes a {@link FaultyStore} can fail. */
export type FaultyWrite = "commit" | "appendInbox";

/**
 * Where a fault strikes:
 * - `before`: the write is refused, nothing reaches the store (a full disk, a lost connection);
 * - `after`: the write lands, but the caller gets an error (a connection lost after COMMIT: the
 *   outcome is unknown to the caller).
 */
export type FaultTiming = "before" | "after";

export interface FaultPlan {
  /** 1-based call numbers (per write kind) that fail. */
  at?: Partial<Record<FaultyWrite, number[]>>;
  /** Each call fails with this probability (drawn from `seed`). */
  probability?: number;
  seed?: number;
  /** Default `before`. */
  timing?: FaultTiming;
  /** The error thrown; default a plain Error like a driver's. */
  error?: (write: FaultyWrite, call: number) => Error;
}

/** The error a {@link FaultyStore} throws by default: what a driver's I/O error looks like. */
export class InjectedFault extends Error {
  readonly write: FaultyWrite;
  readonly call: number;
  constructor(write: FaultyWrite, call: number) {
    super(`injected fault: ${write} #${call} failed`);
    this.name = "InjectedFault";
    this.write = write;
    this.call = call;
  }
}

/**
 * Wraps any Store and fails its `commit` / `appendInbox` calls as planned; reads always pass through.
 * `plan(...)` changes the plan at any time (`plan({})` stops the faults).
 */
export class FaultyStore implements Store {
  readonly inner: Store;
  /** Calls so far, per write kind. */
  readonly calls: Record<FaultyWrite, number> = { commit: 0, appendInbox: 0 };
  /** Faults thrown so far, per write kind. */
  readonly faults: Record<FaultyWrite, number> = { commit: 0, appendInbox: 0 };
  #plan: FaultPlan = {};
  #random: () => number = () => 1;

  constructor(inner: Store, plan: FaultPlan = {}) {
    this.inner = inner;
    this.plan(plan);
  }

  plan(plan: FaultPlan): void {
    this.#plan = plan;
    this.#random = mulberry32(plan.seed ?? 1);
  }

  get faultsInjected(): number {
    return this.faults.commit + this.faults.appendInbox;
  }

  async #write(write: FaultyWrite, run: () => Promise<void>): Promise<void> {
    const call = ++this.calls[write];
    const plan = this.#plan;
    const chosen = plan.at?.[write]?.includes(call) ?? false;
    const drawn = plan.probability !== undefined && this.#random() < plan.probability;
    if (!chosen && !drawn) return run();
    this.faults[write]++;
    const error = plan.error?.(write, call) ?? new InjectedFault(write, call);
    if ((plan.timing ?? "before") === "after") await run();
    throw error;
  }

  commit(batch: CommitBatch): Promise<void> {
    return this.#write("commit", () => this.inner.commit(batch));
  }

  appendInbox(handlerId: string, item: InboxItem, key?: IdempotencyRecord): Promise<void> {
    return this.#write("appendInbox", () => this.inner.appendInbox(handlerId, item, key));
  }

  init(): Promise<void> {
    return this.inner.init();
  }
  close(): Promise<void> {
    return this.inner.close();
  }
  getHandler(handlerId: string): Promise<HandlerRecord | null> {
    return this.inner.getHandler(handlerId);
  }
  listHandlers(query: ListHandlersQuery): Promise<HandlerPage> {
    return this.inner.listHandlers(query);
  }
  listRunning(): Promise<HandlerRecord[]> {
    return this.inner.listRunning();
  }
  dueWakes(before: number, limit: number) {
    return this.inner.dueWakes(before, limit);
  }
  admitQueued(limitKey: string, limit: number) {
    return this.inner.admitQueued(limitKey, limit);
  }
  queuePosition(handlerId: string) {
    return this.inner.queuePosition(handlerId);
  }
  queuedKeys(limit: number) {
    return this.inner.queuedKeys(limit);
  }
  readEventRows(handlerId: string, afterSequence: number, limit: number) {
    return this.inner.readEventRows(handlerId, afterSequence, limit);
  }
  readEvents(handlerId: string, afterSequence: number, limit: number) {
    return this.inner.readEvents(handlerId, afterSequence, limit);
  }
  lastSequence(handlerId: string): Promise<number> {
    return this.inner.lastSequence(handlerId);
  }
  loadState(handlerId: string) {
    return this.inner.loadState(handlerId);
  }
  readInbox(handlerId: string): Promise<InboxItem[]> {
    return this.inner.readInbox(handlerId);
  }
  deleteHandler(handlerId: string, key?: IdempotencyRecord): Promise<boolean> {
    return this.inner.deleteHandler(handlerId, key);
  }
  getIdempotencyKey(key: string): Promise<IdempotencyRecord | null> {
    return this.inner.getIdempotencyKey(key);
  }
  putIdempotencyKey(record: IdempotencyRecord): Promise<IdempotencyRecord> {
    return this.inner.putIdempotencyKey(record);
  }
  deleteIdempotencyKeys(createdBefore: string, limit: number): Promise<number> {
    return this.inner.deleteIdempotencyKeys(createdBefore, limit);
  }
  claimScheduleFire(claim: ScheduleClaim): Promise<boolean> {
    return this.inner.claimScheduleFire(claim);
  }
  listSchedules(scheduleIds: readonly string[]) {
    return this.inner.listSchedules(scheduleIds);
  }
  subscribe(listener: (handlerIds: readonly string[]) => void): () => void {
    return this.inner.subscribe(listener);
  }
}

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}
