import { type Clock, randomId, systemClock } from "../../core/clock.js";
import { CLAIM_TOKEN, type Fence, type LeaseStore } from "../../stores/leases.js";
import type { Store } from "../../stores/store.js";
import { background } from "../clock-timers.js";
import type { ServerLogger } from "../logger.js";

export interface LeaseKeeperOptions {
  /** How long a lease lasts without renewal. Default 30 000. */
  ttlMs?: number;
  logger: ServerLogger;
  /** Renewals and the stale check run on it. Default: the system clock. */
  clock?: Clock;
  /**
   * Called with the handlers whose lease this process lost: another took them over (`takenOver`),
   * or they were not renewed in time and this process stops them on its own.
   */
  onLost(handlerIds: readonly string[], takenOver: boolean): void;
  /**
   * Monotonic milliseconds for the self-stop (a wall clock that jumps must not stop or keep runs).
   * Default: `performance.now()` with the system clock, the clock's `now()` with an injected one.
   */
  monotonic?: () => number;
  /** The handlers this process runs right now (their leases are renewed). */
  held(): readonly string[];
}

/**
 * This process's leases on a shared store (Postgres): a handler runs only in the process that holds
 * its lease; commits are fenced with the lease's token; leases are renewed well before they expire.
 */
export class LeaseKeeper {
  readonly owner = `server-${randomId()}`;
  readonly #store: Store & LeaseStore;
  readonly #o: LeaseKeeperOptions;
  readonly #ttl: number;
  readonly #tokens = new Map<string, number>();
  /**
   * New handlers claimed here whose lease their first commit creates, not renewed before it lands;
   * with the monotonic time that commit was first sent (the lease lives at least until then + ttl).
   */
  readonly #claims = new Map<string, number | null>();
  /** Monotonic time each lease was last acquired or renewed (sent): it lives at least until + ttl. */
  readonly #renewedAt = new Map<string, number>();
  readonly #clock: Clock;
  readonly #monotonic: () => number;
  #timer: unknown = null;

  constructor(store: Store & LeaseStore, options: LeaseKeeperOptions) {
    this.#store = store;
    this.#o = options;
    this.#ttl = options.ttlMs ?? 30_000;
    this.#clock = options.clock ?? systemClock;
    this.#monotonic =
      options.monotonic ?? (this.#clock === systemClock ? () => performance.now() : () => this.#clock.now());
  }

  /** Renews the held leases every ttl/3 (measured from each renewal's start, like an interval). */
  start(): void {
    if (this.#timer !== null) return;
    const period = Math.max(50, Math.floor(this.#ttl / 3));
    const tick = () => {
      this.#timer = background(this.#clock, tick, period);
      void this.#renew();
    };
    this.#timer = background(this.#clock, tick, period);
  }

  stop(): void {
    if (this.#timer !== null) this.#clock.clearTimeout(this.#timer);
    this.#timer = null;
  }

  /** Takes the handler's lease; false when another process holds a live one. */
  async acquire(handlerId: string): Promise<boolean> {
    const sent = this.#monotonic();
    const lease = await this.#store.acquireLease(handlerId, this.owner, this.#ttl);
    if (!lease) return false;
    this.#tokens.set(handlerId, lease.token);
    this.#renewedAt.set(handlerId, sent);
    return true;
  }

  /**
   * Takes a new handler whose id this process made (nobody else can know of it before its first
   * commit) without a statement: that commit creates its lease ({@link Fence.claimTtlMs}), or none
   * when it also ends the run.
   */
  claim(handlerId: string): void {
    this.#tokens.set(handlerId, CLAIM_TOKEN);
    this.#claims.set(handlerId, null);
    // The lease will expire a ttl after the commit that creates it, so after this.
    this.#renewedAt.set(handlerId, this.#monotonic());
  }

  /** A batch with these fences is durable: the leases it claimed exist now. */
  landed(fences: readonly Fence[]): void {
    for (const f of fences) {
      const sent = f.claimTtlMs === undefined ? undefined : this.#claims.get(f.handlerId);
      if (sent === undefined) continue;
      this.#claims.delete(f.handlerId);
      if (sent !== null) this.#renewedAt.set(f.handlerId, sent);
    }
  }

  async release(handlerId: string): Promise<void> {
    this.#renewedAt.delete(handlerId);
    this.#claims.delete(handlerId);
    if (!this.#tokens.delete(handlerId)) return;
    try {
      await this.#store.releaseLease(handlerId, this.owner);
    } catch (error) {
      this.#o.logger.warn("could not release a lease (it will expire)", { handlerId, error });
    }
  }

  /** Gives up every lease this process holds. */
  async releaseAll(): Promise<void> {
    for (const id of [...this.#tokens.keys()]) await this.release(id);
  }

  /** Forgets a lease without telling the store (it was lost). */
  drop(handlerId: string): void {
    this.#tokens.delete(handlerId);
    this.#claims.delete(handlerId);
    this.#renewedAt.delete(handlerId);
  }

  /** True while this process holds the handler's lease (as far as it knows). */
  holds(handlerId: string): boolean {
    return this.#tokens.has(handlerId);
  }

  /** Fences for the handlers of a batch that this process holds. */
  fences(handlerIds: readonly string[]): Fence[] {
    const out: Fence[] = [];
    for (const handlerId of handlerIds) {
      const token = this.#tokens.get(handlerId);
      if (token === undefined) continue;
      if (!this.#claims.has(handlerId)) {
        out.push({ handlerId, owner: this.owner, token });
        continue;
      }
      // Asked for right before the batch is sent: the first send is the earliest the lease may begin.
      if (this.#claims.get(handlerId) === null) this.#claims.set(handlerId, this.#monotonic());
      out.push({ handlerId, owner: this.owner, token, claimTtlMs: this.#ttl });
    }
    return out;
  }

  async #renew(): Promise<void> {
    this.#stopStale();
    const ids = this.#o.held().filter((id) => this.#tokens.has(id) && !this.#claims.has(id));
    if (ids.length === 0) return;
    const sent = this.#monotonic();
    try {
      // One given up meanwhile (released, or its run's last commit gave it back) is not lost.
      const lost = (await this.#store.renewLeases(this.owner, ids, this.#ttl)).filter((id) =>
        this.#tokens.has(id),
      );
      const gone = new Set(lost);
      for (const id of ids) if (!gone.has(id) && this.#tokens.has(id)) this.#renewedAt.set(id, sent);
      if (lost.length > 0) {
        for (const id of lost) this.drop(id);
        this.#o.onLost(lost, true);
      }
    } catch (error) {
      this.#o.logger.warn("lease renewal failed; retrying", { error });
    }
  }

  /**
   * Cut off from the store (a partition, an outage, a renewal that hangs), this process cannot know
   * whether another took its handlers over: it stops running those whose lease may expire soon, before
   * another process may start them. Fencing already rejects their writes; this keeps their steps
   * from running twice. They are resumed (here or elsewhere) once the store is reachable again.
   */
  #stopStale(): void {
    const limit = this.#monotonic() - this.#ttl * 0.6;
    const stale: string[] = [];
    for (const [id, at] of this.#renewedAt) if (at < limit) stale.push(id);
    if (stale.length === 0) return;
    this.#o.logger.warn("leases not renewed in time: stopping their runs", { handlers: stale.length });
    for (const id of stale) this.drop(id);
    this.#o.onLost(stale, false);
  }
}
