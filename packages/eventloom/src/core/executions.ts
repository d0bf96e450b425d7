import type { Clock } from "./clock.js";
import type { Execution } from "./engine-types.js";
import type { QueuedItem } from "./run-state.js";

/** The step executions of one run in memory: each by its item, and how many of each step run. */
export class Executions {
  readonly #clock: Clock;
  readonly #byItem = new Map<string, Execution>();
  readonly #busy = new Map<string, number>();

  constructor(clock: Clock) {
    this.#clock = clock;
  }

  /** A new execution of `item`, counted against its step's workers. */
  begin(item: QueuedItem): Execution {
    const exec: Execution = { item, controller: null, waitCalls: 0, timer: undefined };
    this.#byItem.set(item.id, exec);
    this.#busy.set(item.step, this.busy(item.step) + 1);
    return exec;
  }

  /** How many executions of `step` are running. */
  busy(step: string): number {
    return this.#busy.get(step) ?? 0;
  }

  /** True while `exec` is its item's execution (not one replaced or finished). */
  has(exec: Execution): boolean {
    return this.#byItem.get(exec.item.id) === exec;
  }

  /** `exec` is over: its attempt timer is cleared and its worker freed. */
  finish(exec: Execution): void {
    if (exec.timer !== undefined) this.#clock.clearTimeout(exec.timer);
    this.#byItem.delete(exec.item.id);
    this.#busy.set(exec.item.step, Math.max(0, this.busy(exec.item.step) - 1));
  }

  /** Clears every execution's attempt timer. */
  clearTimers(): void {
    for (const exec of this.#byItem.values()) {
      if (exec.timer !== undefined) this.#clock.clearTimeout(exec.timer);
    }
  }

  /** Forgets every execution, handing them back (to abort them). */
  takeAll(): Execution[] {
    const all = [...this.#byItem.values()];
    this.#byItem.clear();
    this.#busy.clear();
    return all;
  }
}
