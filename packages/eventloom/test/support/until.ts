// The one way tests wait for state that has no event to await (a live-run count, another process's
// answer): poll a condition, briefly, within a generous bound that a busy machine still meets.
import { setTimeout as sleep } from "node:timers/promises";

export interface UntilOptions {
  /** Fails after this long; generous, as a loaded machine is slow but a hung test must end. Default 20 s. */
  timeoutMs?: number;
  /** What is awaited, for the error. */
  what?: string;
  /** Pause between two checks. Default 10 ms: short enough not to slow a test, long enough not to spin a core. */
  intervalMs?: number;
}

const options = (o: number | UntilOptions | undefined): UntilOptions =>
  typeof o === "number" ? { timeoutMs: o } : (o ?? {});

/** Resolves with the first value `check` returns that is not `undefined`; rejects after the timeout. */
export async function eventually<T>(
  what: string,
  check: () => T | undefined | Promise<T | undefined>,
  timeoutOrOptions?: number | Omit<UntilOptions, "what">,
): Promise<T> {
  const { timeoutMs = 20_000, intervalMs = 10 } = options(timeoutOrOptions);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(intervalMs);
  }
}

/** Resolves once `check` returns true; rejects after the timeout. */
export async function until(
  check: () => boolean | Promise<boolean>,
  timeoutOrOptions?: number | UntilOptions,
): Promise<void> {
  const o = options(timeoutOrOptions);
  await eventually(o.what ?? "a condition", async () => ((await check()) ? true : undefined), o);
}
