import { pendingChildren } from "../../core/child-runs.js";
import { type Clock, systemClock } from "../../core/index.js";
import { earliestTimer } from "../../core/run-timers.js";
import type { LeaseStore } from "../../stores/leases.js";
import type { Store } from "../../stores/store.js";
import { background } from "../clock-timers.js";
import type { ServerLogger } from "../logger.js";

/** How many orphaned handlers one pass looks at, beyond the idle ones it already knows. */
const BATCH = 100;
/** How many handlers a pass resumes at once (each takes a few round trips to the store). */
const CONCURRENCY = 8;

export interface TakeoverOptions {
  store: Store & LeaseStore;
  /** Time between passes (ttl/2 of the leases: a dead process's handlers run again within ~1.5 ttl). */
  intervalMs: number;
  logger: ServerLogger;
  clock?: Clock;
  /** True when this process runs the handler already. */
  isLive(handlerId: string): boolean;
  /** Resumes the handler here; taking its lease arbitrates between processes racing for it. */
  resume(handlerId: string): Promise<unknown>;
}

/**
 * Takes over, on a store shared by several server processes, the running handlers whose lease
 * expired (their process died or lost the database) or that nobody holds: every `intervalMs` it lists
 * them and resumes them in this process. Idle ones (waiting for outside events, no timer due, empty
 * inbox) are left where they are, in the store, holding no process: the next event brings them back
 * wherever it arrives, and they are looked at again when their timer is due or the store says they
 * changed.
 */
export class TakeoverLoop {
  readonly #o: TakeoverOptions;
  readonly #clock: Clock;
  /** Orphaned idle handlers left in the store, with when their earliest timer is due (epoch ms). */
  readonly #idle = new Map<string, number | null>();
  #timer: unknown = null;
  #pass: Promise<void> | null = null;
  #unsubscribe: (() => void) | null = null;
  #stopped = false;

  constructor(options: TakeoverOptions) {
    if (!(options.intervalMs > 0)) throw new RangeError("intervalMs must be a positive number");
    this.#o = options;
    this.#clock = options.clock ?? systemClock;
  }

  /** Begins the passes (the first after one interval: startup resumes on its own). */
  start(): void {
    if (this.#stopped || this.#timer !== null) return;
    // Any change of a known idle handler (an event in its inbox, a commit) makes it worth a look.
    this.#unsubscribe = this.#o.store.subscribe((ids) => {
      for (const id of ids) this.#idle.delete(id);
    });
    this.#schedule();
  }

  /** Stops the passes; resolves once the one in progress (if any) is over. */
  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer !== null) this.#clock.clearTimeout(this.#timer);
    this.#timer = null;
    this.#unsubscribe?.();
    this.#unsubscribe = null;
    await this.#pass?.catch(() => undefined);
  }

  /** One pass now (or the one in progress). */
  pass(): Promise<void> {
    this.#pass ??= this.#run().finally(() => {
      this.#pass = null;
    });
    return this.#pass;
  }

  #schedule(): void {
    if (this.#stopped) return;
    this.#timer = background(
      this.#clock,
      () => {
        this.#timer = null;
        void this.pass().finally(() => this.#schedule());
      },
      this.#o.intervalMs,
    );
  }

  async #run(): Promise<void> {
    const { store, logger } = this.#o;
    const limit = Math.min(1000, this.#idle.size + BATCH);
    let ids: string[];
    try {
      // Waiting handlers with no timer due and an empty inbox are left out by the store itself.
      ids = await store.listExpiredRunning(limit, this.#clock.now());
    } catch (error) {
      logger.warn("takeover: the store could not list orphaned handlers", { error });
      return;
    }
    if (ids.length < limit) {
      // A complete listing: known idle handlers missing from it were taken or ended meanwhile.
      const listed = new Set(ids);
      for (const id of [...this.#idle.keys()]) if (!listed.has(id)) this.#idle.delete(id);
    }
    const queue = ids.filter((id) => !this.#o.isLive(id));
    const worker = async () => {
      for (let id = queue.shift(); id !== undefined && !this.#stopped; id = queue.shift()) {
        try {
          await this.#takeOver(id);
        } catch (error) {
          logger.warn("takeover of a handler failed; the next pass tries again", { handlerId: id, error });
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(CONCURRENCY, queue.length) }, worker));
  }

  async #takeOver(id: string): Promise<void> {
    const { store } = this.#o;
    const now = this.#clock.now();
    if (this.#idle.has(id)) {
      const at = this.#idle.get(id) ?? null;
      if (at === null || at > now) return;
      this.#idle.delete(id);
    }
    const state = await store.loadState(id);
    if (state?.status !== "running") return;
    // A parent waiting for children is listed only when the store may not hold its child yet (see
    // LiveRun.snapshot) or its inbox has news: it is loaded, to make sure of them.
    if (state.idle && pendingChildren(state).length === 0) {
      const at = earliestTimer(state);
      if ((at === null || at > now) && (await store.readInbox(id)).length === 0) {
        this.#idle.set(id, at);
        return;
      }
    }
    if (!this.#o.isLive(id)) await this.#o.resume(id);
  }
}
