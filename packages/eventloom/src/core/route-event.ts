import type { WorkflowEvent } from "./events.js";

/** `ChildWorkflowEnded`'s name (child-runs.ts), written out: that module imports the engine's types. */
const CHILD_ENDED = "eventloom.ChildWorkflowEnded";

import * as queues from "./run-queues.js";
import type { RunState, Waiter } from "./run-state.js";
import * as waiters from "./waiters.js";
import type { WorkflowDefinition } from "./workflow-definition.js";

/**
 * Where an event goes in a run's state: to the waiter that waits for it (its item is queued again,
 * to run its step once more with the answer), to the queues of the steps that accept it (all, or
 * only `target`), or, when it came from outside and nothing took it, among the unclaimed events a
 * later `waitForEvent` may claim. Returns the waiter it answered, if any.
 */
export function routeEvent(
  state: RunState,
  workflow: WorkflowDefinition,
  event: WorkflowEvent,
  from: "step" | "outside",
  target: string | null,
): Waiter | null {
  let taken = false;
  const waiter = waiters.waiterFor(state, event, target);
  if (waiter) {
    waiter.answer = event;
    queues.queueOf(state, waiter.item.step).unshift({ ...waiter.item });
    taken = true;
  }
  for (const step of workflow.stepsAccepting(event.qualifiedName)) {
    if (target !== null && step.name !== target) continue;
    queues.queueOf(state, step.name).push(queues.newItem(state, step.name, event));
    taken = true;
  }
  // A child's end nobody waits for (`{ wait: false }`) is not kept for a later wait.
  if (!taken && from === "outside" && event.qualifiedName !== CHILD_ENDED)
    waiters.keepUnclaimed(state, event);
  return waiter;
}
