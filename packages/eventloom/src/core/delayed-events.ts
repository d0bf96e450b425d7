import type { Execution } from "./engine-types.js";
import { WorkflowError } from "./errors.js";
import type { WorkflowEvent } from "./events.js";
import type { DelayedEvent, RunState } from "./run-state.js";
import { delayKey, type RunTimer } from "./run-timers.js";

/** When a durable timer is due: `ctx.sendEvent(ev, { delay })` (seconds) or `{ at }`. */
export interface SendLater {
  /** Seconds from now. */
  delay?: number;
  /** A time (a Date or an ISO 8601 string). */
  at?: Date | string;
}

/** The epoch milliseconds a `{ delay | at }` asks for; null when neither is given. Bad values throw. */
export function dueTime(options: SendLater, now: number): number | null {
  const { delay, at } = options;
  if (delay === undefined && at === undefined) return null;
  if (delay !== undefined && at !== undefined) {
    throw new WorkflowError("VALIDATION_ERROR", "sendEvent takes delay or at, not both");
  }
  if (delay !== undefined) {
    if (typeof delay !== "number" || !Number.isFinite(delay) || delay < 0) {
      throw new WorkflowError(
        "VALIDATION_ERROR",
        `sendEvent's delay must be seconds >= 0, got ${String(delay)}`,
      );
    }
    return now + Math.round(delay * 1000);
  }
  const ms = at instanceof Date ? at.getTime() : typeof at === "string" ? Date.parse(at) : Number.NaN;
  if (!Number.isFinite(ms)) {
    throw new WorkflowError(
      "VALIDATION_ERROR",
      `sendEvent's at must be a Date or an ISO 8601 time, got ${String(at)}`,
    );
  }
  return ms;
}

/** The run's durable timers (a state stored before they existed has none). */
export function delayedOf(state: RunState): Record<string, DelayedEvent> {
  state.delayed ??= {};
  return state.delayed;
}

/**
 * Records a durable timer: the next delayed send of `exec`. Its id (item id and call index) is the
 * same when the step runs again (after a crash, a retry or a `waitForEvent` answer): the timer is
 * then already there, or delivered, and is not set twice. Returns the timer to arm when it is new.
 */
export function addDelayed(
  state: RunState,
  exec: Execution,
  event: WorkflowEvent,
  step: string | null,
  at: number,
): RunTimer | null {
  const all = delayedOf(state);
  exec.laterCalls = (exec.laterCalls ?? 0) + 1;
  const id = `${exec.item.id}:t${exec.laterCalls}`;
  if (all[id]) return null;
  all[id] = { id, itemId: exec.item.id, event, step, at, delivered: false };
  return { kind: "delay", key: delayKey(id), id, at };
}

/**
 * A timer is due: the event to deliver. The timer is kept, marked delivered, while the step that set
 * it may still run again (so that it does not set it twice); otherwise it is forgotten.
 */
export function takeDue(state: RunState, id: string): DelayedEvent | null {
  const all = state.delayed;
  const timer = all?.[id];
  if (!all || !timer || timer.delivered) return null;
  if (itemActive(state, timer.itemId)) timer.delivered = true;
  else delete all[id];
  return timer;
}

/** True while the item may run again: queued, in flight, waiting for a retry or for an event. */
function itemActive(state: RunState, itemId: string): boolean {
  if (state.inFlight[itemId] || state.retries[itemId]) return true;
  for (const step in state.queues) if (state.queues[step]?.some((i) => i.id === itemId)) return true;
  for (const id in state.waiters) if (state.waiters[id]?.item.id === itemId) return true;
  return false;
}

/** The item is done for good: the timers it set that were delivered are forgotten. */
export function forgetDelivered(state: RunState, itemId: string): void {
  const all = state.delayed;
  if (!all) return;
  for (const id in all) if (all[id]?.itemId === itemId && all[id]?.delivered) delete all[id];
}
