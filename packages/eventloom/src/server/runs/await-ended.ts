import type { Clock } from "../../core/index.js";
import type { Store } from "../../stores/store.js";
import { sleep } from "../clock-timers.js";
import type { HandlerSignals } from "./handler-signals.js";

/** How long a cancellation answered by a process that does not run the handler waits for its owner. */
export const CANCEL_WAIT_MS = 5_000;

/**
 * Resolves true once the handler's stored record is no longer `running` (or it is gone), false after
 * `timeoutMs`: whichever comes first. Woken by the handler's change notifications (other processes'
 * commits arrive through the store's `subscribe`), with a look every half second besides.
 */
export async function awaitEnded(
  store: Store,
  signals: HandlerSignals,
  handlerId: string,
  timeoutMs: number,
  clock: Clock,
): Promise<boolean> {
  const deadline = clock.now() + timeoutMs;
  for (;;) {
    let changed = false;
    let wake: (() => void) | null = null;
    const off = signals.once(handlerId, () => {
      changed = true;
      wake?.();
    });
    try {
      const record = await store.getHandler(handlerId);
      if (record?.status !== "running") return true;
      const left = deadline - clock.now();
      if (left <= 0) return false;
      if (!changed) {
        const nap = sleep(clock, Math.min(left, 500));
        wake = nap.wake;
        await nap.done;
      }
    } finally {
      off();
    }
  }
}
