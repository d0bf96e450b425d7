import type { WorkflowEvent } from "./events.js";
import type { QueuedItem, RunState } from "./run-state.js";
import { type RunTimer, retryKey } from "./run-timers.js";

/** The queue of a step (made when missing). */
export function queueOf(state: RunState, step: string): QueuedItem[] {
  let q = state.queues[step];
  if (!q) {
    q = [];
    state.queues[step] = q;
  }
  return q;
}

/** A new item for `step`, first attempt, with an id unique in the run. */
export function newItem(state: RunState, step: string, event: WorkflowEvent): QueuedItem {
  return { id: `i${state.nextItemId++}`, step, event, attempt: 1 };
}

/** On resume: the work that was in flight goes back to the front of its queue, oldest first. */
export function requeueInFlight(state: RunState): void {
  const inFlight = Object.values(state.inFlight).sort((a, b) => a.startedAt - b.startedAt);
  for (let i = inFlight.length - 1; i >= 0; i--) {
    const { startedAt: _, ...item } = inFlight[i] as (typeof inFlight)[number];
    queueOf(state, item.step).unshift(item);
  }
  state.inFlight = {};
}

/** Notes that `item` started at `now`: the run is not idle. */
export function markInFlight(state: RunState, item: QueuedItem, now: number): void {
  state.idle = false;
  state.inFlight[item.id] = {
    id: item.id,
    step: item.step,
    event: item.event,
    attempt: item.attempt,
    startedAt: now,
  };
}

/** A retry whose delay passed goes to the back of its queue; false when it is gone. */
export function retryDue(state: RunState, id: string): boolean {
  const retry = state.retries[id];
  if (!retry) return false;
  delete state.retries[id];
  const { at: _, ...item } = retry;
  queueOf(state, item.step).push(item);
  return true;
}

/** A waiter's timeout passed: its item runs again (and its wait throws); false when answered or gone. */
export function waiterExpired(state: RunState, id: string): boolean {
  const w = state.waiters[id];
  if (!w || w.answer) return false;
  w.expired = true;
  queueOf(state, w.item.step).unshift({ ...w.item });
  return true;
}

/** The steps with work in flight. */
export function activeSteps(state: RunState): string[] {
  return [...new Set(Object.values(state.inFlight).map((i) => i.step))];
}

/** Schedules the item's next attempt at `at` (epoch ms); returns the timer that brings it back. */
export function addRetry(state: RunState, item: QueuedItem, at: number): RunTimer {
  state.retries[item.id] = { ...item, attempt: item.attempt + 1, at };
  return { kind: "retry", key: retryKey(item.id), id: item.id, at };
}
