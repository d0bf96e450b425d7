import type { Clock } from "eventloom";

interface Parked {
  at: number;
  fn: () => void;
  real: ReturnType<typeof setTimeout> | null;
}

/**
 * Real time, except that timers of at least `threshold` ms wait for `open()` before they are armed
 * (with what is left of their delay). A test uses it to hold the idle release back until it has
 * measured the runs in memory, however long starting them took on a busy machine.
 */
export class GatedClock implements Clock {
  readonly #threshold: number;
  readonly #parked = new Set<Parked>();
  #open = false;

  constructor(threshold: number) {
    this.#threshold = threshold;
  }

  now(): number {
    return Date.now();
  }

  setTimeout(fn: () => void, ms: number): unknown {
    const timer: Parked = { at: Date.now() + ms, fn, real: null };
    if (this.#open || ms < this.#threshold) this.#arm(timer);
    else this.#parked.add(timer);
    return timer;
  }

  clearTimeout(handle: unknown): void {
    const timer = handle as Parked;
    this.#parked.delete(timer);
    if (timer.real !== null) clearTimeout(timer.real);
  }

  /** Arms every parked timer, and every later one at once. */
  open(): void {
    this.#open = true;
    for (const timer of this.#parked) this.#arm(timer);
    this.#parked.clear();
  }

  #arm(timer: Parked): void {
    timer.real = setTimeout(timer.fn, Math.max(0, timer.at - Date.now()));
    timer.real.unref();
  }
}
