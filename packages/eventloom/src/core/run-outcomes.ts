import { WorkflowCancelledError, WorkflowError } from "./errors.js";
import type { EventDefinition, WorkflowEvent } from "./events.js";
import { StopEvent, WorkflowCancelledEvent, WorkflowFailedEvent, WorkflowTimedOutEvent } from "./events.js";
import type { RunOutcome, RunState } from "./run-state.js";
import { errorOf } from "./step-results.js";

/** A stop event (StopEvent or one that extends it) ended the run. */
export function completed(def: EventDefinition, event: WorkflowEvent): RunOutcome {
  return {
    status: "completed",
    result: def === StopEvent || def.name === StopEvent.name ? (event.data.result ?? null) : event.data,
    error: null,
    stopEvent: event,
    failedStep: null,
  };
}

export function cancelled(): RunOutcome {
  return {
    status: "cancelled",
    result: null,
    error: "Workflow was cancelled",
    stopEvent: WorkflowCancelledEvent.create({}),
    failedStep: null,
  };
}

/** A step failed for good (no retry left) with `error`. */
export function stepFailed(step: string, error: unknown, attempts: number): RunOutcome {
  const err = error instanceof Error ? error : new Error(String(error));
  return {
    status: "failed",
    result: null,
    error: err.message,
    stopEvent: WorkflowFailedEvent.create({
      step_name: step,
      error: errorOf(error),
      attempts,
    }),
    failedStep: step,
  };
}

/**
 * The run was abandoned before it ran again (a server that stopped resuming it): failed with
 * `error`, naming the steps that were in flight when it was stored.
 */
export function abandoned(error: Error, steps: readonly string[]): RunOutcome {
  return {
    status: "failed",
    result: null,
    error: error.message,
    stopEvent: WorkflowFailedEvent.create({
      step_name: steps[0] ?? null,
      error: { name: error.name || "Error", message: error.message },
      attempts: 0,
    }),
    failedStep: steps[0] ?? null,
  };
}

export function timedOut(seconds: number, activeSteps: string[]): RunOutcome {
  return {
    status: "failed",
    result: null,
    error: `Workflow timed out after ${seconds}s`,
    stopEvent: WorkflowTimedOutEvent.create({ timeout: seconds, active_steps: activeSteps }),
    failedStep: null,
  };
}

/** Records the outcome in the state and drops the work that will never run. */
export function settle(state: RunState, outcome: RunOutcome): void {
  state.status = outcome.status;
  state.outcome = outcome;
  state.queues = {};
  state.inFlight = {};
  state.retries = {};
  state.waiters = {};
  if (state.delayed) state.delayed = {};
  state.collected = {};
  state.idle = false;
}

/** What a run's step executions are aborted with when it ends: its cause, or the end itself. */
export function stopReason(outcome: RunOutcome, cause: unknown): unknown {
  if (outcome.status === "cancelled") return new WorkflowCancelledError();
  return cause ?? new WorkflowError("HANDLER_ENDED", "The run has ended");
}
