import type { Clock } from "../../core/index.js";
import type { Store } from "../../stores/store.js";
import { sleep } from "../clock-timers.js";
import { ReleasingMap } from "../releasing-map.js";

interface Deferred {
  resolve: (where: EndSeen) => void;
  reject: (error: unknown) => void;
}

/**
 * Where a run's end was seen: `here` (the run in this process's memory ended and its final record
 * is durable), or `store` (the run left this process, was released, taken over or dropped, and its
 * record in the store is no longer running: the store's record is the answer).
 */
export type EndSeen = "here" | "store";

const NONE: readonly Deferred[] = [];

/** How often a waiter whose run left this process looks at the store besides its notifications. */
const STORE_POLL_MS = 1000;

/** Promises that settle when a handler's run has ended and its final record is durable. */
export class EndWaiters {
  readonly #waiters = new ReleasingMap<string, Deferred[]>();
  readonly #watching = new Set<AbortController>();
  readonly #store: Store;
  readonly #clock: Clock;

  constructor(store: Store, clock: Clock) {
    this.#store = store;
    this.#clock = clock;
  }

  /** Settles when {@link settle} is called for the handler, or when the store says it ended. */
  wait(handlerId: string): Promise<EndSeen> {
    return new Promise((resolve, reject) => {
      const list = this.#waiters.get(handlerId);
      if (list) list.push({ resolve, reject });
      else this.#waiters.set(handlerId, [{ resolve, reject }]);
    });
  }

  /** Resolves the handler's waiters, or rejects them with `error` when it is not null. */
  settle(handlerId: string, error: unknown): void {
    const set = this.#take(handlerId);
    for (const d of set) {
      if (error === null) d.resolve("here");
      else d.reject(error);
    }
  }

  /**
   * The handler's run left this process without ending here (released while idle, taken over,
   * dropped): its waiters wait on the store now, and answer when its record there has ended,
   * whichever process ends it.
   */
  leave(handlerId: string): void {
    const set = this.#take(handlerId);
    if (set.length === 0) return;
    const abort = new AbortController();
    this.#watching.add(abort);
    void this.#watch(handlerId, abort.signal)
      .then(
        () => {
          for (const d of set) d.resolve("store");
        },
        (error: unknown) => {
          for (const d of set) d.reject(error);
        },
      )
      .finally(() => this.#watching.delete(abort));
  }

  /** Rejects every waiter with `error`, those waiting on the store too. */
  rejectAll(error: unknown): void {
    for (const id of [...this.#waiters.keys()]) this.settle(id, error);
    for (const abort of this.#watching) abort.abort(error);
  }

  #take(handlerId: string): readonly Deferred[] {
    const list = this.#waiters.get(handlerId);
    if (!list) return NONE;
    this.#waiters.delete(handlerId);
    return list;
  }

  /** Resolves once the stored record is not running (or is gone); woken by the store's notices. */
  async #watch(handlerId: string, signal: AbortSignal): Promise<void> {
    for (;;) {
      let changed = false;
      let wake: (() => void) | null = null;
      const onAbort = () => wake?.();
      signal.addEventListener("abort", onAbort);
      const off = this.#store.subscribe((ids) => {
        if (!ids.includes(handlerId)) return;
        changed = true;
        wake?.();
      });
      try {
        if (signal.aborted) throw signal.reason;
        try {
          const record = await this.#store.getHandler(handlerId);
          if (record?.status !== "running") return;
        } catch {
          // The store is down for now: look again later, the run's end is still to come.
        }
        if (!changed) {
          const nap = sleep(this.#clock, STORE_POLL_MS);
          wake = nap.wake;
          await nap.done;
        }
        if (signal.aborted) throw signal.reason;
      } finally {
        off();
        signal.removeEventListener("abort", onAbort);
      }
    }
  }
}
