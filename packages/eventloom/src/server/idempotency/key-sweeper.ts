import { isoTime } from "../../core/clock.js";
import type { Clock } from "../../core/index.js";
import type { Store } from "../../stores/store.js";
import { background } from "../clock-timers.js";
import type { ServerLogger } from "../logger.js";

/** Keys deleted per store call: a sweep of many keys never holds the store for long. */
const BATCH = 1000;

/**
 * Forgets idempotency keys older than `ttlMs` in the background, on the server's clock: a sweep
 * every tenth of the TTL (at most hourly, at least every second), in batches. Several processes
 * sharing a store may sweep at once; each key is deleted once.
 */
export class KeySweeper {
  readonly #store: Store;
  readonly #clock: Clock;
  readonly #ttlMs: number;
  readonly #logger: ServerLogger;
  readonly #everyMs: number;
  #timer: unknown = null;
  #stopped = false;
  #sweeping: Promise<void> | null = null;
  #again = false;

  constructor(store: Store, options: { clock: Clock; ttlMs: number; logger: ServerLogger }) {
    this.#store = store;
    this.#clock = options.clock;
    this.#ttlMs = options.ttlMs;
    this.#logger = options.logger;
    this.#everyMs = Math.min(3_600_000, Math.max(1000, Math.floor(options.ttlMs / 10)));
  }

  start(): void {
    this.#arm();
  }

  /** Stops sweeping; resolves once a sweep in progress has ended. */
  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer !== null) this.#clock.clearTimeout(this.#timer);
    this.#timer = null;
    await this.#sweeping;
  }

  /** One sweep now: every key older than the TTL. Resolves with how many were deleted. */
  async sweep(): Promise<number> {
    const before = isoTime(this.#clock.now() - this.#ttlMs);
    let total = 0;
    for (;;) {
      const deleted = await this.#store.deleteIdempotencyKeys(before, BATCH);
      total += deleted;
      if (deleted < BATCH || this.#stopped) return total;
    }
  }

  #arm(): void {
    if (this.#stopped) return;
    this.#timer = background(
      this.#clock,
      () => {
        // The next sweep is armed first: the schedule does not drift by how long a sweep takes.
        this.#arm();
        this.#run();
      },
      this.#everyMs,
    );
  }

  /** Sweeps now; a tick that comes while a sweep runs makes one more sweep after it, not a second at once. */
  #run(): void {
    if (this.#sweeping) {
      this.#again = true;
      return;
    }
    this.#sweeping = this.sweep()
      .then(
        () => undefined,
        (error: unknown) => this.#logger.warn("could not forget old idempotency keys", { error }),
      )
      .finally(() => {
        this.#sweeping = null;
        if (this.#again && !this.#stopped) {
          this.#again = false;
          this.#run();
        }
      });
  }
}
