import type { IdempotencyRecord } from "../../stores/idempotency.js";
import type { Fence, FencedCommitBatch } from "../../stores/leases.js";
import type { InboxItem, Store } from "../../stores/store.js";
import type { KeyWrite } from "../idempotency/key-write.js";

/** A store write that carries `key` when one is given. */
export const write = <T>(
  key: KeyWrite | undefined,
  w: (record?: IdempotencyRecord) => Promise<T>,
): Promise<T> => (key ? key.through(w) : w());

/** What an {@link Ownership} needs from the runs this process holds. */
export interface OwnedRuns {
  /** Handlers running in this process. */
  liveIds(): string[];
  /** True when the handler runs in this process. */
  isLive(handlerId: string): boolean;
  /** Loads and resumes the handler here (a takeover); taking its ownership arbitrates races. */
  acquire(handlerId: string): Promise<unknown>;
  /**
   * Stop running these handlers here: owned elsewhere now (`takenOver`), or this process could not
   * keep their leases (cut off from the store: whether another took them is unknown).
   */
  lost(handlerIds: readonly string[], takenOver: boolean): void;
  /** Another process may have written to these handlers' inboxes. */
  changedElsewhere(handlerIds: readonly string[]): void;
}

/**
 * Which handlers this process may run, and how its commits prove it. `solo`: the process has the
 * store to itself and owns everything. Leased (a store shared by several processes): see
 * {@link LeasedOwnership}. The run manager and the commit writer are written once against this.
 */
export interface Ownership {
  /** True when other processes share the store: their events reach a run through its inbox. */
  readonly shared: boolean;
  /** Begins keeping what `runs` holds (lease renewals). */
  start(runs: OwnedRuns): void;
  /** Begins taking over orphaned handlers (after the startup resume, which resumes on its own). */
  startTakeover(): void;
  /** Stops keeping; resolves once the background work in progress is over. */
  stop(): Promise<void>;
  /** Gives up everything held, so that other processes may take it at once. */
  releaseAll(): Promise<void>;
  /** Takes the right to run the handler here; false when another process has it (solo: true at once). */
  acquire(handlerId: string): boolean | Promise<boolean>;
  /**
   * Takes the right to run a new handler whose id this process made (nobody else can know of it
   * before its first commit): no statement; that commit establishes it ({@link Fence.claimTtlMs}).
   */
  claim(handlerId: string): void;
  /** A batch with these fences is durable (the claims among them are leases now). */
  landed(fences: readonly Fence[]): void;
  /** Gives the right up (the run ended or was released from memory). */
  release(handlerId: string): Promise<void>;
  /** Forgets the right without telling anyone (it was lost). */
  drop(handlerId: string): void;
  /**
   * Writes an item to the handler's inbox (`key` with it); true when some process (maybe this one)
   * has the right to run the handler, checked in the same write (solo: always true).
   */
  toInbox(handlerId: string, item: InboxItem, key?: KeyWrite): Promise<boolean>;
  /**
   * The fences of a batch about to be committed: those of the handlers held here (none when solo).
   * On a shared store every handler a batch writes must be fenced: one without a fence is refused.
   */
  fences(handlerIds: readonly string[], notified?: readonly string[]): Fence[];
  /** True while this process holds the right to write the handler (solo: always). */
  holds(handlerId: string): boolean;
  /** A fenced commit found these handlers owned elsewhere (`takenOver`), or they are no longer held. */
  lost(handlerIds: readonly string[], takenOver: boolean): void;
  /** A batch of these handlers is durable. */
  committed(handlerIds: readonly string[]): void;
  /** Of the handlers a store notification names, those other processes may have changed. */
  foreign(handlerIds: readonly string[]): readonly string[];
}

const NO_FENCES: Fence[] = [];

const NOTHING_HELD: Promise<void> = Promise.resolve();

/** The process has the store to itself: it owns every handler, and nothing needs fencing. */
export function soloOwnership(store: Store): Ownership {
  return {
    shared: false,
    start: () => {},
    startTakeover: () => {},
    stop: async () => {},
    releaseAll: async () => {},
    acquire: () => true,
    claim: () => {},
    landed: () => {},
    release: () => NOTHING_HELD, // at every run's end: no promise made for it
    drop: () => {},
    toInbox: (id, item, key) => write(key, (record) => store.appendInbox(id, item, record)).then(() => true),
    fences: () => NO_FENCES,
    holds: () => true,
    lost: () => {},
    committed: () => {},
    foreign: (ids) => ids,
  };
}

/**
 * Fences a batch of `handlerIds` for `ownership`: on a shared store the batch always carries its
 * fences (even none), so that the store refuses any handler it writes without one.
 */
export function fence<B extends FencedCommitBatch>(
  batch: B,
  ownership: Pick<Ownership, "shared" | "fences">,
  handlerIds: readonly string[],
  notified: readonly string[] = handlerIds,
): B {
  if (ownership.shared) batch.fence = ownership.fences(handlerIds, notified);
  return batch;
}

/**
 * The right to run a handler being started. A generated id is new: nobody else can know of it before
 * the run's first commit, which takes its lease (no statement of its own). A given id may be started
 * elsewhere at once: its lease is taken now. False (or a promise of it) when another process holds it.
 */
export function takeForStart(
  ownership: Ownership,
  handlerId: string,
  generated: boolean,
): boolean | Promise<boolean> {
  if (!generated) return ownership.acquire(handlerId);
  ownership.claim(handlerId);
  return true;
}
