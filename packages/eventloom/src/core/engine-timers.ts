import type { Clock } from "./clock.js";
import type { RunTimer } from "./run-timers.js";

/** The armed timers of one run in memory, by {@link RunTimer} key. */
export class EngineTimers {
  readonly #clock: Clock;
  readonly #handles = new Map<string, unknown>();

  constructor(clock: Clock) {
    this.#clock = clock;
  }

  /**
   * Arms `timer`; `fire` runs when it is due (after it is forgotten), never before: Node's timers
   * count on a monotonic clock and may wake a millisecond before the wall clock reaches `at`, so an
   * early wake arms again for what is left.
   */
  arm(timer: RunTimer, fire: () => void): void {
    const wait = () =>
      this.#clock.setTimeout(() => {
        if (this.#clock.now() < timer.at) {
          this.#handles.set(timer.key, wait());
          return;
        }
        this.#handles.delete(timer.key);
        fire();
      }, timer.at - this.#clock.now());
    this.#handles.set(timer.key, wait());
  }

  disarm(key: string): void {
    const handle = this.#handles.get(key);
    if (handle !== undefined) {
      this.#clock.clearTimeout(handle);
      this.#handles.delete(key);
    }
  }

  clear(): void {
    for (const handle of this.#handles.values()) this.#clock.clearTimeout(handle);
    this.#handles.clear();
  }
}
