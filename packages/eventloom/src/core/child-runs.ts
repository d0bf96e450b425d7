import { z } from "zod";
import type { ChildRequest, Execution } from "./engine-types.js";
import { WorkflowError } from "./errors.js";
import { defineEvent, type WorkflowEvent } from "./events.js";
import type { ChildCall, RunState } from "./run-state.js";

/**
 * Internal: a child run started with `ctx.runWorkflow` has ended. The server sends it into the
 * parent; the waiting step's wait takes it by the child's `handler_id`.
 */
export const ChildWorkflowEnded = defineEvent(
  "eventloom.ChildWorkflowEnded",
  z.object({
    handler_id: z.string(),
    status: z.enum(["completed", "failed", "cancelled"]),
    result: z.unknown(),
    error: z.string().nullable(),
  }),
);

export type { ChildRequest } from "./engine-types.js";

/** Thrown by `await ctx.runWorkflow(…)` when the child failed or was cancelled. */
export class ChildWorkflowError extends WorkflowError {
  /** The child's handler. */
  readonly handlerId: string;
  readonly status: "failed" | "cancelled";
  constructor(handlerId: string, status: "failed" | "cancelled", error: string | null) {
    super(
      "STEP_FAILED",
      `Child workflow run "${handlerId}" ${status === "failed" ? "failed" : "was cancelled"}${error ? `: ${error}` : ""}`,
    );
    this.handlerId = handlerId;
    this.status = status;
  }
}

/** The run's child calls (a state stored before them has none). */
export function childrenOf(state: RunState): Record<string, ChildCall> {
  state.children ??= {};
  return state.children;
}

/**
 * Records the next `runWorkflow` call of `exec`, or finds it when the step runs again (after a
 * crash, a retry or the child's end): its id, and so its child's handler id, is the same then, so
 * that a child is started once whatever happens to the parent.
 */
export function addChild(state: RunState, exec: Execution, request: ChildRequest): ChildCall {
  const all = childrenOf(state);
  exec.childCalls = (exec.childCalls ?? 0) + 1;
  const id = `${exec.item.id}:c${exec.childCalls}`;
  const found = all[id];
  if (found) return found;
  const call: ChildCall = {
    id,
    handlerId: request.handlerId ?? `${state.runId}.${exec.item.id}.c${exec.childCalls}`,
    workflow: request.workflow,
    start: request.start,
    wait: request.wait,
    ended: false,
  };
  all[id] = call;
  return call;
}

/** A ChildWorkflowEnded came in: its call is marked ended (false when it names no call of this run). */
export function childEnded(state: RunState, event: WorkflowEvent): boolean {
  const handlerId = event.data["handler_id"];
  for (const call of Object.values(state.children ?? {})) {
    if (call.handlerId === handlerId) {
      call.ended = true;
      return true;
    }
  }
  return false;
}

/** The calls whose child has not ended yet (or whose end the parent has not taken in). */
export function pendingChildren(state: RunState): ChildCall[] {
  return Object.values(state.children ?? {}).filter((c) => !c.ended);
}

/** The value `await ctx.runWorkflow(…)` gives for the child's end: its result, or it throws. */
export function childOutcome(ended: WorkflowEvent): unknown {
  const data = ChildWorkflowEnded.schema.parse(ended.data);
  if (data.status === "completed") return data.result ?? null;
  throw new ChildWorkflowError(data.handler_id, data.status, data.error);
}
