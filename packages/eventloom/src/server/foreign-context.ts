import { EventValidationError, WorkflowError, type WorkflowEvent } from "../core/index.js";
import type { RunState } from "../core/run-state.js";
import { parseRunState } from "../core/state-codec.js";
import type { RegisteredWorkflow } from "./registry.js";

/**
 * A run state sent by a client (the `context` of a run request, with `acceptContext: true`) made
 * safe to resume: its shape and steps checked (`INVALID_CONTEXT`), every event in it and its user
 * state validated against the workflow's schemas (`VALIDATION_ERROR` with issues under `context`),
 * and its deadline no later than a run started now would get: a client cannot lift the timeout.
 */
export function checkForeignContext(raw: unknown, entry: RegisteredWorkflow, now: number): RunState {
  const state = parseRunState(raw, entry.workflow);
  for (const [path, event] of eventsOf(state)) checkEvent(entry, event, `context.${path}`);
  const schema = entry.workflow.stateSchema;
  if (schema) {
    const parsed = schema.safeParse(state.store);
    if (!parsed.success) throw new EventValidationError("state", parsed.error.issues, "context.store");
  }
  const timeout = entry.workflow.timeout;
  const limit = timeout === null ? null : now + timeout * 1000;
  if (limit !== null && (state.deadline === null || state.deadline > limit)) state.deadline = limit;
  return state;
}

function checkEvent(entry: RegisteredWorkflow, event: WorkflowEvent, path: string): void {
  const definition = entry.resolve(event.qualifiedName) ?? entry.resolve(event.type);
  if (!definition) {
    throw new WorkflowError("INVALID_CONTEXT", `Unknown event "${event.qualifiedName}" at ${path}`, {
      issues: [{ path, message: `Unknown event "${event.qualifiedName}"` }],
    });
  }
  const parsed = definition.schema.safeParse(event.data);
  if (!parsed.success) throw new EventValidationError(definition.type, parsed.error.issues, `${path}.data`);
}

/** Every event a run state holds, with where it sits. */
export function* eventsOf(state: RunState): Generator<[string, WorkflowEvent]> {
  for (const [step, items] of Object.entries(state.queues)) {
    for (const [i, item] of items.entries()) yield [`queues.${step}.${i}.event`, item.event];
  }
  for (const [id, item] of Object.entries(state.inFlight)) yield [`inFlight.${id}.event`, item.event];
  for (const [id, item] of Object.entries(state.retries)) yield [`retries.${id}.event`, item.event];
  for (const [step, list] of Object.entries(state.collected)) {
    for (const [i, c] of list.entries()) yield [`collected.${step}.${i}.event`, c.event];
  }
  for (const [id, w] of Object.entries(state.waiters)) {
    yield [`waiters.${id}.item.event`, w.item.event];
    if (w.answer) yield [`waiters.${id}.answer`, w.answer];
  }
  for (const [i, event] of state.unclaimed.entries()) yield [`unclaimed.${i}`, event];
  // An ended state's outcome is not resumed (its stop event may be a built-in the workflow does not list).
}
