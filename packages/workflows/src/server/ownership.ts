import { type RunState, randomId } from "../core/index.js";
import type { Fence, LeaseStore } from "../stores/leases.js";
import type { Store } from "../stores/store.js";
import type { ServerLogger } from "./logger.js";
import { earliestTimer } from "./run-manager.js";

/**
 * The owner name of a parked lease: an idle run that no process holds in memory. Its lease expires
 * when the run's earliest timer is due, so that some process's takeover loop wakes it then; an
 * event sent to it unparks it at once, on whichever process receives the event.
 */
export const PARKED_OWNER = "workflows:parked";

/** A parked run without timers: its lease is as good as permanent (about a century). */
const FOREVER_MS = 100 * 365 * 24 * 3600 * 1000;

/** How many expired handlers one takeover pass tries to acquire. */
const TAKEOVER_BATCH = 100;

/** What ownership needs from the process's runs. */
export interface OwnedRuns {
  /** Resumes the handler from the store in this process (claiming its lease first); null when it cannot. */
  acquire(handlerId: string): Promise<unknown>;
  /** True when the handler's run is in this process's memory. */
  isLive(handlerId: string): boolean;
  /** Stops the run in memory without writing anything more: another process owns it now. */
  drop(handlerId: string): void;
}

export interface OwnershipOptions {
  store: Store & LeaseStore;
  /** How long a lease lives without renewal: a dead process's handlers run again elsewhere after about this. */
  ttlMs: number;
  logger: ServerLogger;
  /** This process's owner name. Default: random. */
  owner?: string;
}

interface Held {
  token: number;
  /** Local time (ms) when the acquisition or last successful renewal was sent: the lease lives until at least + ttl. */
  since: number;
}

/**
 * Which handlers this process runs, when several processes share one store: a lease per running
 * handler, renewed by a heartbeat every ttl/3; fences for every commit (a process that lost a lease
 * cannot write that handler any more); a takeover loop every ttl/2 that resumes the running handlers
 * whose owner died; and parking of idle runs, so that they hold no process.
 */
export class Ownership {
  readonly owner: string;
  readonly ttlMs: number;
  readonly #store: Store & LeaseStore;
  readonly #logger: ServerLogger;
  readonly #held = new Map<string, Held>();
  #runs: OwnedRuns | null = null;
  #heartbeat: ReturnType<typeof setTimeout> | null = null;
  #takeover: ReturnType<typeof setTimeout> | null = null;
  #scanning: Promise<void> | null = null;
  #closed = false;

  constructor(options: OwnershipOptions) {
    if (!(options.ttlMs > 0)) throw new RangeError("leaseTtlMs must be a positive number");
    this.#store = options.store;
    this.ttlMs = options.ttlMs;
    this.#logger = options.logger;
    this.owner = options.owner ?? `process-${randomId()}`;
  }

  /** Starts the heartbeat and the takeover loop; resolves after the first takeover pass. */
  async start(runs: OwnedRuns): Promise<void> {
    this.#runs = runs;
    this.#scheduleHeartbeat();
    await this.scan();
    this.#scheduleTakeover();
  }

  /** True while this process holds the handler's lease (as far as it knows). */
  holds(handlerId: string): boolean {
    return this.#held.has(handlerId);
  }

  /** Handlers this process holds leases on. */
  get heldCount(): number {
    return this.#held.size;
  }

  /**
   * Takes the handler's lease for this process: when nobody holds it, its holder died, it is parked,
   * or this process holds it already. Resolves false when another live process holds it.
   */
  async claim(handlerId: string): Promise<boolean> {
    if (this.#closed) return false;
    const since = Date.now();
    let lease = await this.#store.acquireLease(handlerId, this.owner, this.ttlMs);
    if (!lease) {
      const current = await this.#store.getLease(handlerId);
      if (current?.owner === PARKED_OWNER) {
        // Unpark: expire the parked lease, then race for it like anyone else (exactly one wins).
        await this.#store.acquireLease(handlerId, PARKED_OWNER, 0);
        lease = await this.#store.acquireLease(handlerId, this.owner, this.ttlMs);
      }
    }
    if (!lease || this.#closed) return false;
    this.#held.set(handlerId, { token: lease.token, since });
    return true;
  }

  /** The fences of a batch: a handler this process does not hold gets one that cannot match. */
  fences(handlerIds: Iterable<string>): Fence[] {
    const fences: Fence[] = [];
    for (const handlerId of handlerIds) {
      fences.push({ handlerId, owner: this.owner, token: this.#held.get(handlerId)?.token ?? -1 });
    }
    return fences;
  }

  /** Forgets handlers whose leases another process took (the caller stops their runs). */
  lost(handlerIds: readonly string[]): void {
    for (const id of handlerIds) this.#held.delete(id);
  }

  /** Gives the lease up (the run ended or this process stops). */
  async release(handlerId: string): Promise<void> {
    if (!this.#held.delete(handlerId)) return;
    try {
      await this.#store.releaseLease(handlerId, this.owner);
    } catch (error) {
      // It expires by itself; the run is not `running` any more, or its state is durable.
      this.#logger.warn("a lease could not be released", { handlerId, error });
    }
  }

  /**
   * Parks an idle run that left memory: its lease passes to {@link PARKED_OWNER} until `wakeAt`
   * (epoch ms; null: no timer), when any process's takeover loop wakes it. Resolves true when the
   * run must be woken right away because events arrived meanwhile.
   */
  async park(handlerId: string, wakeAt: number | null): Promise<boolean> {
    if (!this.#held.has(handlerId)) return false;
    this.#held.delete(handlerId);
    const ttl = wakeAt === null ? FOREVER_MS : Math.max(0, wakeAt - Date.now());
    try {
      await this.#store.releaseLease(handlerId, this.owner);
      // Null: someone claimed it in between (an event arrived): then it is theirs.
      await this.#store.acquireLease(handlerId, PARKED_OWNER, ttl);
      // An event appended while this process still held the lease was meant for it: take it back.
      return (await this.#store.readInbox(handlerId)).length > 0;
    } catch (error) {
      this.#logger.warn("an idle run could not be parked; another process will take it over", {
        handlerId,
        error,
      });
      return false;
    }
  }

  /**
   * One takeover pass: acquires the running handlers nobody holds a live lease on (their owner died,
   * released them, or their parked timer is due) and resumes them here. Idle ones with nothing in
   * their inbox are parked again at once instead of being loaded.
   */
  scan(): Promise<void> {
    this.#scanning ??= this.#scan().finally(() => {
      this.#scanning = null;
    });
    return this.#scanning;
  }

  async #scan(): Promise<void> {
    const runs = this.#runs;
    if (!runs || this.#closed) return;
    let ids: string[];
    try {
      ids = await this.#store.listExpiredRunning(TAKEOVER_BATCH);
    } catch (error) {
      this.#logger.warn("takeover: could not list expired handlers", { error });
      return;
    }
    for (const handlerId of ids) {
      if (this.#closed) return;
      if (runs.isLive(handlerId)) continue;
      try {
        if (!(await this.claim(handlerId))) continue;
        const state = await this.#store.loadState(handlerId);
        if (state && isParkable(state) && (await this.#store.readInbox(handlerId)).length === 0) {
          if (!(await this.park(handlerId, earliestTimer(state)))) continue;
        }
        await runs.acquire(handlerId);
      } catch (error) {
        this.#logger.warn("takeover of a handler failed; the next pass tries again", { handlerId, error });
      }
    }
  }

  /** Stops the loops and releases every lease this process holds (call after the last commit). */
  async close(): Promise<void> {
    this.#closed = true;
    if (this.#heartbeat) clearTimeout(this.#heartbeat);
    if (this.#takeover) clearTimeout(this.#takeover);
    this.#heartbeat = null;
    this.#takeover = null;
    await this.#scanning?.catch(() => undefined);
    const ids = [...this.#held.keys()];
    this.#held.clear();
    await Promise.allSettled(ids.map((id) => this.#store.releaseLease(id, this.owner)));
  }

  #scheduleHeartbeat(): void {
    if (this.#closed) return;
    this.#heartbeat = setTimeout(() => {
      void this.#renew().finally(() => this.#scheduleHeartbeat());
    }, this.ttlMs / 3);
    this.#heartbeat.unref?.();
  }

  #scheduleTakeover(): void {
    if (this.#closed) return;
    this.#takeover = setTimeout(() => {
      void this.scan().finally(() => this.#scheduleTakeover());
    }, this.ttlMs / 2);
    this.#takeover.unref?.();
  }

  async #renew(): Promise<void> {
    const ids = [...this.#held.keys()];
    if (ids.length === 0) return;
    const since = Date.now();
    let lost: string[];
    try {
      lost = await this.#store.renewLeases(this.owner, ids, this.ttlMs);
    } catch (error) {
      // Unreachable store: a lease that may have expired by now may already run elsewhere. Stop
      // those runs before that can happen (fencing guards the writes; this guards the steps).
      const deadline = Date.now() - this.ttlMs * 0.8;
      const stale = ids.filter((id) => (this.#held.get(id)?.since ?? 0) < deadline);
      this.#logger.warn("leases could not be renewed", { error, stopping: stale.length });
      this.#drop(stale);
      return;
    }
    const gone = new Set(lost);
    for (const id of ids) {
      const held = this.#held.get(id);
      if (held && !gone.has(id)) held.since = since;
    }
    this.#drop(lost);
  }

  #drop(handlerIds: readonly string[]): void {
    for (const id of handlerIds) {
      if (!this.#held.delete(id)) continue;
      this.#runs?.drop(id);
    }
  }
}

/** A running run with nothing queued, in flight or retrying: it only waits for outside events or timers. */
function isParkable(state: RunState): boolean {
  return state.status === "running" && state.idle;
}
