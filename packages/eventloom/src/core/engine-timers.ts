import type { Clock } from "./clock.js";
import type { RunTimer } from "./run-timers.js";

/** Called when a timer is due (given its kind and its id; the deadline's key). */
export type TimerDue = (kind: RunTimer["kind"], id: string) => void;

/** The armed timers of one run in memory, by {@link RunTimer} key. */
export class EngineTimers {
  readonly #clock: Clock;
  readonly #due: TimerDue;
  /** Made at the first timer: a run that ends in one turn arms its deadline only. */
  #handles: Map<string, unknown> | null = null;

  constructor(clock: Clock, due: TimerDue) {
    this.#clock = clock;
    this.#due = due;
  }

  /**
   * Arms `timer` (none when null); `due` is called when it is due (after it is forgotten), never before: Node's timers
   * count on a monotonic clock and may wake a millisecond before the wall clock reaches `at`, so an
   * early wake arms again for what is left.
   */
  arm(timer: RunTimer | null): void {
    if (!timer) return;
    this.#handles ??= new Map();
    this.#handles.set(timer.key, this.#wait(timer));
  }

  /** A clock timer for `timer`, set again when the clock fires it early. */
  #wait(timer: RunTimer): unknown {
    return this.#clock.setTimeout(() => {
      if (this.#clock.now() < timer.at) {
        this.#handles?.set(timer.key, this.#wait(timer));
        return;
      }
      this.#handles?.delete(timer.key);
      this.#due(timer.kind, "id" in timer ? timer.id : timer.key);
    }, timer.at - this.#clock.now());
  }

  disarm(key: string): void {
    const handle = this.#handles?.get(key);
    if (handle !== undefined) {
      this.#clock.clearTimeout(handle);
      this.#handles?.delete(key);
    }
  }

  clear(): void {
    if (this.#handles === null) return;
    for (const handle of this.#handles.values()) this.#clock.clearTimeout(handle);
    this.#handles.clear();
  }
}
