import type { Clock } from "../core/index.js";

/** Lets the process exit while the timer is pending (a real timer has `unref`; a fake one does not). */
export function unref(handle: unknown): void {
  (handle as { unref?: () => void } | null)?.unref?.();
}

/** A timer that must not keep the process alive. */
export function background(clock: Clock, fn: () => void, ms: number): unknown {
  const handle = clock.setTimeout(fn, ms);
  unref(handle);
  return handle;
}

/** Resolves after `ms` on the clock, or at once when `wake` is called (whichever is first). */
export function sleep(clock: Clock, ms: number): { done: Promise<void>; wake(): void } {
  let wake = () => {};
  const done = new Promise<void>((resolve) => {
    const handle = clock.setTimeout(resolve, ms);
    wake = () => {
      clock.clearTimeout(handle);
      resolve();
    };
  });
  return { done, wake };
}
