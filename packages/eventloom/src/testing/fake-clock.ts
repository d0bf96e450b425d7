import type { Clock } from "../core/index.js";

interface Timer {
  at: number;
  fn: () => void;
}

/**
 * A {@link Clock} whose time moves only when a test says so. Pass it as `clock` to `workflow.run`
 * or to a `WorkflowServer`: step timeouts, retries, `waitForEvent` timeouts, idle release, lease
 * renewal and stream heartbeats then wait for `advance` instead of real time.
 *
 * @example
 * const clock = new FakeClock();
 * const handler = workflow.run(StartEvent.create({}), { clock });
 * await clock.advance(30_000); // a 30 s waitForEvent timeout passes at once
 */
export class FakeClock implements Clock {
  #now: number;
  #timers = new Map<number, Timer>();
  #next = 1;

  /** `start`: the epoch milliseconds the clock begins at (default 2026-01-01T00:00:00Z). */
  constructor(start = Date.UTC(2026, 0, 1)) {
    this.#now = start;
  }

  now(): number {
    return this.#now;
  }

  setTimeout(fn: () => void, ms: number): unknown {
    const id = this.#next++;
    this.#timers.set(id, { at: this.#now + Math.max(0, ms), fn });
    return id;
  }

  clearTimeout(handle: unknown): void {
    this.#timers.delete(handle as number);
  }

  /** Timers not yet fired. */
  get pending(): number {
    return this.#timers.size;
  }

  /** When the earliest pending timer is due (epoch ms), or null when none is pending. */
  get nextDue(): number | null {
    let at: number | null = null;
    for (const t of this.#timers.values()) if (at === null || t.at < at) at = t.at;
    return at;
  }

  /** Moves time forward, firing due timers in order and letting promises settle between them. */
  async advance(ms: number): Promise<void> {
    const target = this.#now + ms;
    for (;;) {
      await settle();
      let due: [number, Timer] | undefined;
      for (const entry of this.#timers) {
        if (entry[1].at <= target && (!due || entry[1].at < due[1].at)) due = entry;
      }
      if (!due) break;
      this.#timers.delete(due[0]);
      this.#now = due[1].at;
      due[1].fn();
    }
    this.#now = target;
    await settle();
  }
}

const nextTurn: (fn: () => void) => void =
  typeof globalThis.setImmediate === "function" ? globalThis.setImmediate : (fn) => setTimeout(fn, 0);

/** Lets every queued promise callback (and the I/O callbacks ready meanwhile) run. */
export async function settle(): Promise<void> {
  for (let i = 0; i < 20; i++) await new Promise<void>((resolve) => nextTurn(() => resolve()));
}
