import type { RunState } from "./run-state.js";

/**
 * A timer a run's state asks for: its deadline, a retry waiting for its delay, a `waitForEvent`
 * waiter's timeout, or an event sent with `{ delay | at }`. The one list of them: the engine arms these, and a server that drops an idle run
 * from memory wakes it at the earliest.
 */
export type RunTimer =
  | { kind: "deadline"; key: "deadline"; at: number }
  | { kind: "retry"; key: `retry:${string}`; id: string; at: number }
  | { kind: "wait"; key: `wait:${string}`; id: string; at: number }
  | { kind: "delay"; key: `delay:${string}`; id: string; at: number };

/** The timer key of a retry (the item id). */
export const retryKey = (id: string): `retry:${string}` => `retry:${id}`;
/** The timer key of a waiter (the waiter id). */
export const waitKey = (id: string): `wait:${string}` => `wait:${id}`;

/** The timer key of an event sent with `{ delay | at }` (its id). */
export const delayKey = (id: string): `delay:${string}` => `delay:${id}`;

/**
 * Every timer the state asks for: its retries, its waiters still waiting with a timeout, its
 * delayed events not yet delivered, its deadline.
 */
export function runTimers(state: RunState): RunTimer[] {
  const timers: RunTimer[] = [];
  for (const r of Object.values(state.retries))
    timers.push({ kind: "retry", key: retryKey(r.id), id: r.id, at: r.at });
  for (const w of Object.values(state.waiters)) {
    if (w.deadline !== null && !w.answer && !w.expired) {
      timers.push({ kind: "wait", key: waitKey(w.id), id: w.id, at: w.deadline });
    }
  }
  for (const d of Object.values(state.delayed ?? {})) {
    if (!d.delivered) timers.push({ kind: "delay", key: delayKey(d.id), id: d.id, at: d.at });
  }
  if (state.deadline !== null) timers.push({ kind: "deadline", key: "deadline", at: state.deadline });
  return timers;
}

/** When a run released from memory must be woken: its earliest timer (epoch ms), or null when none. */
export function earliestTimer(state: RunState): number | null {
  let earliest: number | null = null;
  for (const t of runTimers(state)) if (earliest === null || t.at < earliest) earliest = t.at;
  return earliest;
}
