import type { IdempotencyRecord } from "./idempotency.js";
import type { CommitBatch, InboxItem, Store } from "./store.js";

/**
 * A handler's lease: which process runs it, until when, and the fencing token of this acquisition.
 *
 * Several server processes share one store. Each runs only the handlers it holds a lease on, renews
 * its leases well before they expire, and takes over the running handlers whose lease expired (their
 * process died). Expiry is measured by the store's clock (for Postgres, the database's), never by the
 * processes' own clocks, so clock skew between machines does not matter.
 */
export interface Lease {
  handlerId: string;
  owner: string;
  /**
   * Grows with every acquisition (of any lease in the store) and is never reused, not even after
   * the handler is deleted and created again. Fenced commits carry it.
   */
  token: number;
  /** ISO 8601 UTC with milliseconds. */
  expiresAt: string;
}

/** A writer's claim, checked inside the commit's transaction, that it still holds a handler's lease. */
export interface Fence {
  handlerId: string;
  owner: string;
  token: number;
  /**
   * The handler is new and its id was made by this writer, so nobody else can know of it before this
   * commit: it has no lease row yet, and the commit creates it (`owner`, token {@link CLAIM_TOKEN},
   * expiring `claimTtlMs` from now) unless the handler's record ends in the same batch. Refused like
   * any fence when a lease row exists that is not this one. Later commits fence it with the same
   * owner and token, without `claimTtlMs`.
   */
  claimTtlMs?: number;
}

/**
 * The token of a lease created by a claiming commit ({@link Fence.claimTtlMs}). The sequence of
 * acquisitions starts at 1: any later acquisition of the handler has a greater token.
 */
export const CLAIM_TOKEN = 0;

/**
 * A {@link CommitBatch} that may carry fences. When `fence` is given, the commit applies only if,
 * for every fence, the handler's lease is still held by that owner with that token (it may have
 * expired, as long as nobody acquired it since); otherwise it throws {@link LeaseLostError} and
 * writes nothing. Handlers in the batch without a fence are written unchecked.
 */
export interface FencedCommitBatch extends CommitBatch {
  fence?: Fence[];
}

/**
 * Thrown by a fenced commit when the writer no longer holds a lease it fenced on: another process
 * took the handler over (or it was deleted). The writer must stop running those handlers.
 */
export class LeaseLostError extends Error {
  readonly code = "LEASE_LOST";
  readonly handlerIds: readonly string[];
  constructor(handlerIds: readonly string[], message?: string) {
    super(message ?? `Lease lost for handler(s): ${handlerIds.join(", ")}`);
    this.name = "LeaseLostError";
    this.handlerIds = handlerIds;
  }
}

/**
 * The optional part of a store that lets several processes share its handlers safely.
 * A store that implements it is a {@link Store} too; see {@link isLeaseStore}.
 *
 * @example
 * const lease = await store.acquireLease(handlerId, processId, 30_000);
 * if (lease) {
 *   const fence = [{ handlerId, owner: processId, token: lease.token }];
 *   await store.commit({ events: [...], fence });   // throws LeaseLostError once taken over
 * }
 */
export interface LeaseStore {
  /**
   * Takes the lease when nobody holds it, when it expired, or when `owner` holds it already; each
   * success is a new acquisition with a new, higher token. Resolves null when another owner holds
   * a live lease. When several owners race for the same lease, exactly one wins.
   * `ttlMs` 0 gives an already expired lease (handy to hand a handler over).
   */
  acquireLease(handlerId: string, owner: string, ttlMs: number): Promise<Lease | null>;
  /**
   * Extends the leases `owner` still holds among `handlerIds` (expired ones included, as long as
   * nobody took them) to `ttlMs` from now. Resolves with the ids `owner` no longer holds: lost.
   */
  renewLeases(owner: string, handlerIds: readonly string[], ttlMs: number): Promise<string[]>;
  /** Gives the lease up. Resolves false when `owner` did not hold it. */
  releaseLease(handlerId: string, owner: string): Promise<boolean>;
  /**
   * {@link Store.appendInbox}, saying in the same statement whether some process (maybe `owner`'s
   * own) holds a live lease on the handler, by the store's clock: true means its holder takes the item.
   * A release, or a commit giving the lease back, waits for this write, so that its holder's inbox
   * read after it sees the item; false means nobody will until a process acquires the handler.
   */
  appendInboxLeased(handlerId: string, item: InboxItem, key?: IdempotencyRecord): Promise<boolean>;
  /** The handler's lease, live or expired, or null when none. */
  getLease(handlerId: string): Promise<Lease | null>;
  /**
   * Handlers whose status is `running` and that nobody holds a live lease on (never leased, released,
   * or expired), oldest first, at most `limit`: what a process should try to acquire and resume.
   * With `now` (epoch ms), those that wait for outside events (their last state was idle) with no
   * timer due by then and an empty inbox are left out: nothing is there to run.
   */
  listExpiredRunning(limit: number, now?: number): Promise<string[]>;
  /** {@link Store.commit}, with optional fences. */
  commit(batch: FencedCommitBatch): Promise<void>;
}

/** True when `store` implements the lease part. */
export function isLeaseStore(store: Store): store is Store & LeaseStore {
  const candidate = store as Partial<LeaseStore>;
  return (
    typeof candidate.acquireLease === "function" &&
    typeof candidate.renewLeases === "function" &&
    typeof candidate.releaseLease === "function" &&
    typeof candidate.appendInboxLeased === "function" &&
    typeof candidate.listExpiredRunning === "function"
  );
}
