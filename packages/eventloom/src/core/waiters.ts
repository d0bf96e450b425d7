import type { EventDefinition, WorkflowEvent } from "./events.js";
import type { JsonValue, QueuedItem, RunState, Waiter } from "./run-state.js";
import type { StepDeclaration } from "./workflow-definition.js";

/** True when `event` is what the waiter waits for: its definition, with the required field values. */
export function matchesWaiter(waiter: Waiter, event: WorkflowEvent): boolean {
  if (event.qualifiedName !== waiter.eventName) return false;
  for (const [key, expected] of Object.entries(waiter.requirements)) {
    if (JSON.stringify(event.data[key]) !== JSON.stringify(expected)) return false;
  }
  return true;
}

/** A new waiter of `item` for `def` (its timeout in seconds, measured from `now`). */
export function newWaiter(
  id: string,
  item: QueuedItem,
  def: EventDefinition,
  options: { requirements?: Record<string, JsonValue>; timeout?: number | null },
  now: number,
): Waiter {
  return {
    id,
    item: { id: item.id, step: item.step, event: item.event, attempt: item.attempt },
    eventName: def.name,
    requirements: options.requirements ?? {},
    deadline: options.timeout ? now + options.timeout * 1000 : null,
    answer: null,
    expired: false,
  };
}

/** Hands the waiter the oldest unclaimed outside event that matches it, if any. */
export function claimUnclaimed(state: RunState, waiter: Waiter): WorkflowEvent | null {
  const index = state.unclaimed.findIndex((ev) => matchesWaiter(waiter, ev));
  if (index < 0) return null;
  waiter.answer = state.unclaimed.splice(index, 1)[0] as WorkflowEvent;
  return waiter.answer;
}

/** The oldest waiter still waiting that takes `event` (of step `target`, when given). */
export function waiterFor(state: RunState, event: WorkflowEvent, target: string | null): Waiter | null {
  for (const id in state.waiters) {
    const waiter = state.waiters[id] as Waiter;
    if (waiter.answer || waiter.expired || (target !== null && waiter.item.step !== target)) continue;
    if (matchesWaiter(waiter, event)) return waiter;
  }
  return null;
}

/** The ids of the waiters an item registered (one per `waitForEvent` call of its execution). */
export function waiterIdsOf(state: RunState, itemId: string): string[] {
  const prefix = `${itemId}:`;
  return Object.keys(state.waiters).filter((id) => id.startsWith(prefix));
}

const MAX_UNCLAIMED = 1000;

/** Keeps an outside event nobody took, for a later `waitForEvent` (the newest 1000). */
export function keepUnclaimed(state: RunState, event: WorkflowEvent): void {
  state.unclaimed.push(event);
  if (state.unclaimed.length > MAX_UNCLAIMED) state.unclaimed.shift();
}

/**
 * Lets a step's `waitForEvent` end the execution without running anything after the await. A fresh
 * promise each time: nothing but the parked step references it, so both are garbage collected
 * (a shared one would keep every parked step's frame alive through its reaction list).
 */
export const never = (): Promise<never> => new Promise<never>(() => {});

/** True when a step would take this event: it accepts it, or one of its waiters waits for it. */
export function stepTakes(state: RunState, step: StepDeclaration, qualifiedName: string): boolean {
  return (
    step.accepts.some((d) => d.name === qualifiedName) ||
    Object.values(state.waiters).some((w) => w.item.step === step.name && w.eventName === qualifiedName)
  );
}
