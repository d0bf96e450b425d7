import type { WorkflowEvent } from "./events.js";
import type { RunState } from "./run-state.js";
import type { WorkflowDefinition } from "./workflow-definition.js";

/**
 * The state a new run starts from. `prior` is the state of an ended run whose store (and, unless
 * `firstSequence` says otherwise, sequence counter) the new run carries on.
 */
export function initialRunState(
  workflow: WorkflowDefinition,
  options: { runId: string; now: number; firstSequence?: number; prior: RunState | null },
): RunState {
  const { now, prior } = options;
  return {
    version: 1,
    workflowName: workflow.name,
    runId: options.runId,
    status: "running",
    startedAt: now,
    deadline: workflow.timeout === null ? null : now + workflow.timeout * 1000,
    nextSequence: options.firstSequence ?? prior?.nextSequence ?? 0,
    nextItemId: 0,
    queues: {},
    inFlight: {},
    retries: {},
    collected: {},
    waiters: {},
    unclaimed: [],
    store: prior ? prior.store : workflow.initialState(),
    idle: false,
    outcome: null,
  };
}

/**
 * The state of a run queued behind its run limit: nothing runs and no timer is set until it begins,
 * when `start` is delivered and its deadline set (RunEngine.begin).
 */
export function queuedRunState(
  workflow: WorkflowDefinition,
  start: WorkflowEvent,
  options: { runId: string; now: number; firstSequence?: number; prior: RunState | null },
): RunState {
  return { ...initialRunState(workflow, options), deadline: null, pendingStart: start };
}

/**
 * A queued run begins: takes its start event off the state (null when it has none) and sets its
 * deadline from `now`: its timeout counts from here, not from its time in the queue.
 */
export function takePendingStart(
  state: RunState,
  workflow: WorkflowDefinition,
  now: number,
): WorkflowEvent | null {
  const pending = state.pendingStart ?? null;
  if (pending) {
    delete state.pendingStart;
    state.deadline = workflow.timeout === null ? null : now + workflow.timeout * 1000;
  }
  return pending;
}
