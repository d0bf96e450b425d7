import type { z } from "zod";
import { type EventDefinition, lookupEventDefinition } from "../../core/index.js";
import type { QueuedItem, RunState } from "../../core/run-state.js";
import type { BlockedInfo } from "../../protocol/codec.js";
import { eventsOf } from "../foreign-context.js";
import type { RegisteredWorkflow } from "../registry.js";

/** Why a stored run cannot go on with the code now loaded: a record's `blocked` without its `since`. */
export type BlockReason = Omit<BlockedInfo, "since">;

/** The reason of a run whose workflow is not registered in this process. */
export const unregistered = (workflowName: string): BlockReason => ({
  code: "WORKFLOW_CHANGED",
  detail: `its workflow "${workflowName}" is not registered`,
});

/**
 * Whether the code now loaded can resume a stored run, before any of it runs: every step the run
 * has work for still exists and accepts the event it holds for it (else `WORKFLOW_CHANGED`, naming
 * the step or event), and every event it holds and its user state still fit their zod schemas (else
 * `SCHEMA_CHANGED`, naming the event and the field). Null when it fits.
 *
 * A schema that transforms its input (a `.transform`, `.pipe`) keeps its output in the state, which
 * need not parse again: events and states of such schemas are not checked against them.
 */
export function checkFit(state: RunState, entry: RegisteredWorkflow): BlockReason | null {
  const workflow = entry.workflow;
  for (const [where, item] of itemsOf(state)) {
    const step = workflow.getStep(item.step);
    if (!step) {
      return changed(`step "${item.step}" is gone; the run has work for it (${item.event.type}, ${where})`);
    }
    // An item is always an event its step accepted (a waiter's answer re-runs the step on its input).
    if (!step.accepts.some((d) => d.name === item.event.qualifiedName)) {
      return changed(
        `step "${item.step}" no longer accepts ${item.event.type}, which the run holds for it (${where})`,
      );
    }
  }
  for (const waiter of Object.values(state.waiters)) {
    if (!definitionOf(entry, waiter.eventName)) {
      return changed(
        `event "${waiter.eventName}" is gone; step "${waiter.item.step}" waits for it with waitForEvent`,
      );
    }
  }
  for (const [where, event] of eventsOf(state)) {
    const definition = definitionOf(entry, event.qualifiedName);
    if (!definition) return changed(`event "${event.qualifiedName}" is gone; the run holds one (${where})`);
    const problem = misfit(definition.schema, event.data);
    if (problem) {
      return schema(`${event.type} (${where}) no longer fits its schema: ${problem}`);
    }
  }
  if (workflow.stateSchema) {
    const problem = misfit(workflow.stateSchema, state.store);
    if (problem) return schema(`the run's state no longer fits the workflow's state schema: ${problem}`);
  }
  return null;
}

const changed = (detail: string): BlockReason => ({ code: "WORKFLOW_CHANGED", detail });
const schema = (detail: string): BlockReason => ({ code: "SCHEMA_CHANGED", detail });

function definitionOf(entry: RegisteredWorkflow, qualifiedName: string): EventDefinition | undefined {
  return entry.events.find((d) => d.name === qualifiedName) ?? lookupEventDefinition(qualifiedName);
}

/** The items a step will be given: queued, in flight, waiting for a retry, parked in a waiter. */
function* itemsOf(state: RunState): Generator<[string, QueuedItem]> {
  for (const [step, items] of Object.entries(state.queues)) {
    for (const item of items) yield [`queued for step "${step}"`, item];
  }
  for (const item of Object.values(state.inFlight)) yield [`in step "${item.step}"`, item];
  for (const item of Object.values(state.retries)) yield [`waiting to retry step "${item.step}"`, item];
  for (const w of Object.values(state.waiters)) yield [`in step "${w.item.step}", waiting`, w.item];
}

/** The first problem of `value` against `schema`, as `field "a.b": message`; null when it fits. */
function misfit(schema: z.ZodType, value: unknown): string | null {
  if (transforms(schema)) return null;
  const parsed = schema.safeParse(value);
  if (parsed.success) return null;
  const issue = parsed.error.issues[0];
  if (!issue) return "it does not parse";
  const path = issue.path.map(String).join(".");
  return path ? `field "${path}": ${issue.message}` : issue.message;
}

interface ZodInternals {
  _zod?: { def?: Record<string, unknown> & { type?: string } };
}

/** True when the schema transforms its input somewhere (its output need not parse again). */
function transforms(schema: unknown, depth = 0): boolean {
  const def = (schema as ZodInternals)?._zod?.def;
  if (!def || depth > 8) return false;
  if (def.type === "pipe" || def.type === "transform") return true;
  const inner = [def["innerType"], def["element"], def["valueType"], def["in"], def["out"]];
  const shape = def["shape"] as Record<string, unknown> | undefined;
  const options = def["options"] as unknown[] | undefined;
  const children = [...inner, ...Object.values(shape ?? {}), ...(options ?? [])];
  return children.some((child) => child !== undefined && transforms(child, depth + 1));
}
