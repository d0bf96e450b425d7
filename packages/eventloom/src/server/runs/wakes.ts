import type { Clock } from "../../core/index.js";
import { background } from "../clock-timers.js";

/** The wake-up timers of runs released from memory, one per handler, on the server's clock. */
export class Wakes {
  readonly #clock: Clock;
  readonly #timers = new Map<string, unknown>();

  constructor(clock: Clock) {
    this.#clock = clock;
  }

  get size(): number {
    return this.#timers.size;
  }

  /** Calls `wake` at `at` (epoch ms), replacing the handler's previous wake-up; none when `at` is null. */
  schedule(handlerId: string, at: number | null, wake: () => void): void {
    this.cancel(handlerId);
    if (at === null) return;
    const timer = background(
      this.#clock,
      () => {
        this.#timers.delete(handlerId);
        wake();
      },
      at - this.#clock.now(),
    );
    this.#timers.set(handlerId, timer);
  }

  cancel(handlerId: string): void {
    const timer = this.#timers.get(handlerId);
    if (timer !== undefined) {
      this.#clock.clearTimeout(timer);
      this.#timers.delete(handlerId);
    }
  }

  clear(): void {
    for (const id of [...this.#timers.keys()]) this.cancel(id);
  }
}
