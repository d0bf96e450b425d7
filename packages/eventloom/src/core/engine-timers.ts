import type { Clock } from "./clock.js";
import type { RunTimer } from "./run-timers.js";

/** What happens when a timer of each kind is due (given the timer's id; the deadline's key). */
export type TimerActions = { [K in RunTimer["kind"]]: (id: string) => void };

/** The armed timers of one run in memory, by {@link RunTimer} key. */
export class EngineTimers {
  readonly #clock: Clock;
  readonly #actions: TimerActions;
  readonly #handles = new Map<string, unknown>();

  constructor(clock: Clock, actions: TimerActions) {
    this.#clock = clock;
    this.#actions = actions;
  }

  /**
   * Arms `timer` (none when null); its kind's action runs when it is due (after it is forgotten), never before: Node's timers
   * count on a monotonic clock and may wake a millisecond before the wall clock reaches `at`, so an
   * early wake arms again for what is left.
   */
  arm(timer: RunTimer | null): void {
    if (!timer) return;
    const fire = () => this.#actions[timer.kind]("id" in timer ? timer.id : timer.key);
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
