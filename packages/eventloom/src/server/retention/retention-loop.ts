import { type Clock, isoTime } from "../../core/clock.js";
import type { EndedCutoffs, Store } from "../../stores/store.js";
import { background } from "../clock-timers.js";
import type { ServerLogger } from "../logger.js";
import type { RetentionOptions } from "./retention-options.js";

/** Handlers deleted per transaction: small enough that other writes never wait long behind one. */
export const RETENTION_BATCH = 200;
/** `reclaimSpace` calls per pass at most (with SQLite, 8 MiB each); the next pass goes on. */
const RECLAIM_CALLS = 64;

export interface RetentionLoopOptions {
  store: Store;
  retention: RetentionOptions;
  clock: Clock;
  logger: ServerLogger;
  /** Time between passes. Default: a tenth of the shortest age, between 1 s and 10 min. */
  intervalMs?: number;
  /** Told the ids of every deleted handler (their readers end, memory forgets them). */
  onDeleted(handlerIds: readonly string[]): void;
}

/**
 * Retention in the background: every interval (on the server's clock, the first right after the
 * start) deletes the ended handlers older than their status's age, in batches of
 * {@link RETENTION_BATCH} with a turn of the event loop between them, then gives the space back to
 * the file system (`store.reclaimSpace`, SQLite's incremental vacuum). The first pass readies the
 * store first (`store.prepareRetention`). A failed pass is logged and the next one tries again.
 */
export class RetentionLoop {
  readonly #o: RetentionLoopOptions;
  readonly #intervalMs: number;
  #timer: unknown = null;
  #pass: Promise<number> | null = null;
  #stopped = false;
  /** The last pass left space to give back: the next one goes on with it. */
  #moreToReclaim = false;
  /** `store.prepareRetention` has been done (before the first pass). */
  #prepared = false;

  constructor(options: RetentionLoopOptions) {
    if (!options.store.deleteEnded) {
      throw new TypeError("retention needs a store that can delete ended handlers (Store.deleteEnded)");
    }
    this.#o = options;
    const ages = Object.values(options.retention).filter((ms): ms is number => ms !== undefined);
    this.#intervalMs = options.intervalMs ?? Math.min(600_000, Math.max(1000, Math.min(...ages) / 10));
  }

  /** Time between passes. */
  get intervalMs(): number {
    return this.#intervalMs;
  }

  start(): void {
    if (this.#stopped || this.#timer !== null) return;
    this.#schedule(0);
  }

  /** Stops the passes; resolves once the one in progress (if any) is over. */
  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer !== null) this.#o.clock.clearTimeout(this.#timer);
    this.#timer = null;
    await this.#pass?.catch(() => undefined);
  }

  /** One pass now (or the one in progress): resolves with how many handlers it deleted. */
  pass(): Promise<number> {
    this.#pass ??= this.#run().finally(() => {
      this.#pass = null;
    });
    return this.#pass;
  }

  #schedule(ms: number): void {
    if (this.#stopped) return;
    this.#timer = background(
      this.#o.clock,
      () => {
        this.#timer = null;
        void this.pass()
          .catch((error: unknown) =>
            this.#o.logger.warn("retention: a pass failed; the next one tries again", { error }),
          )
          .finally(() => this.#schedule(this.#intervalMs));
      },
      ms,
    );
  }

  async #run(): Promise<number> {
    const { store, retention, clock, logger } = this.#o;
    if (!this.#prepared) {
      await store.prepareRetention?.();
      this.#prepared = true;
    }
    const now = clock.now();
    const cutoffs: EndedCutoffs = {};
    if (retention.completedMs !== undefined) cutoffs.completed = isoTime(now - retention.completedMs);
    if (retention.failedMs !== undefined) cutoffs.failed = isoTime(now - retention.failedMs);
    if (retention.cancelledMs !== undefined) cutoffs.cancelled = isoTime(now - retention.cancelledMs);
    let deleted = 0;
    for (;;) {
      if (this.#stopped) break;
      const ids = await (store.deleteEnded as NonNullable<Store["deleteEnded"]>)(cutoffs, RETENTION_BATCH);
      deleted += ids.length;
      if (ids.length > 0) this.#o.onDeleted(ids);
      if (ids.length < RETENTION_BATCH) break;
      await turn();
    }
    if (deleted > 0) logger.info("retention: deleted ended handlers", { deleted });
    if ((deleted > 0 || this.#moreToReclaim) && store.reclaimSpace) {
      this.#moreToReclaim = false;
      for (let i = 0; i < RECLAIM_CALLS && !this.#stopped; i++) {
        this.#moreToReclaim = await store.reclaimSpace();
        if (!this.#moreToReclaim) break;
        await turn();
      }
    }
    return deleted;
  }
}

/** Lets the requests waiting for the event loop go first. */
const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
