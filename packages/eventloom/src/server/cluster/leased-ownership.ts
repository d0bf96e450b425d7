import type { Clock } from "../../core/index.js";
import type { Fence, LeaseStore } from "../../stores/leases.js";
import type { InboxItem, Store } from "../../stores/store.js";
import type { KeyWrite } from "../idempotency/key-write.js";
import type { ServerLogger } from "../logger.js";
import { LeaseKeeper } from "./lease-keeper.js";
import { OwnNotices } from "./own-notices.js";
import { type OwnedRuns, type Ownership, write } from "./ownership.js";
import { TakeoverLoop } from "./takeover.js";

export interface LeasedOwnershipOptions {
  /** How long a lease lives without renewal. */
  ttlMs: number;
  logger: ServerLogger;
  clock: Clock;
}

/**
 * Ownership on a store shared by several processes (Postgres): a handler runs only where its lease
 * is held ({@link LeaseKeeper}), commits carry the lease's fencing token, orphaned handlers are taken
 * over every ttl/2 ({@link TakeoverLoop}), and the store's notifications of this process's own commits
 * are told apart from other processes' writes ({@link OwnNotices}).
 */
export class LeasedOwnership implements Ownership {
  readonly shared = true;
  readonly #store: Store & LeaseStore;
  readonly #o: LeasedOwnershipOptions;
  readonly #keeper: LeaseKeeper;
  readonly #notices = new OwnNotices();
  #runs: OwnedRuns | null = null;
  #takeover: TakeoverLoop | null = null;

  constructor(store: Store & LeaseStore, options: LeasedOwnershipOptions) {
    this.#store = store;
    this.#o = options;
    this.#keeper = new LeaseKeeper(store, {
      ttlMs: options.ttlMs,
      logger: options.logger,
      clock: options.clock,
      held: () => this.#runs?.liveIds() ?? [],
      onLost: (ids, takenOver) => this.#runs?.lost(ids, takenOver),
    });
  }

  /** This process's lease owner name. */
  get owner(): string {
    return this.#keeper.owner;
  }

  start(runs: OwnedRuns): void {
    this.#runs = runs;
    this.#keeper.start();
  }

  /** Begins the takeover passes (after the startup resume: that one resumes on its own). */
  startTakeover(): void {
    const runs = this.#runs;
    if (!runs || this.#takeover) return;
    // Handlers of processes that die from now on: resumed here within about 1.5 lease lifetimes.
    this.#takeover = new TakeoverLoop({
      store: this.#store,
      intervalMs: this.#o.ttlMs / 2,
      logger: this.#o.logger,
      clock: this.#o.clock,
      isLive: (id) => runs.isLive(id),
      resume: (id) => runs.acquire(id),
    });
    this.#takeover.start();
  }

  async stop(): Promise<void> {
    this.#keeper.stop();
    await this.#takeover?.stop();
  }

  releaseAll(): Promise<void> {
    return this.#keeper.releaseAll();
  }

  acquire(handlerId: string): Promise<boolean> {
    return this.#keeper.acquire(handlerId);
  }

  claim(handlerId: string): void {
    this.#keeper.claim(handlerId);
  }

  landed(fences: readonly Fence[]): void {
    this.#keeper.landed(fences);
  }

  release(handlerId: string): Promise<void> {
    return this.#keeper.release(handlerId);
  }

  drop(handlerId: string): void {
    this.#keeper.drop(handlerId);
  }

  toInbox(handlerId: string, item: InboxItem, key?: KeyWrite): Promise<boolean> {
    return write(key, (record) => this.#store.appendInboxLeased(handlerId, item, record));
  }

  /**
   * `notified`: the handlers the batch gives a record or events, whose commit the store notifies (an
   * inbox-only change sends none: expecting one would take another process's notice for it).
   */
  fences(handlerIds: readonly string[], notified: readonly string[] = handlerIds): Fence[] {
    // Inboxes are read on other processes' notifications only, not after each own commit.
    const again = this.#notices.cut(notified);
    if (again.length > 0) this.#runs?.changedElsewhere(again);
    return this.#keeper.fences(handlerIds);
  }

  holds(handlerId: string): boolean {
    return this.#keeper.holds(handlerId);
  }

  lost(handlerIds: readonly string[], takenOver: boolean): void {
    this.#runs?.lost(handlerIds, takenOver);
  }

  committed(handlerIds: readonly string[]): void {
    this.#notices.committed(handlerIds);
  }

  foreign(handlerIds: readonly string[]): readonly string[] {
    return this.#notices.foreign(handlerIds);
  }
}
