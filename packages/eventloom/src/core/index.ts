export { ChildWorkflowError } from "./child-runs.js";
export { type Clock, systemClock } from "./clock.js";
export { Context, StepContext, type WaitForEventOptions } from "./context.js";
export type { RunJournal } from "./engine-types.js";
export * from "./errors.js";
export * from "./events.js";
export { type RunOptions, type StreamOptions, WorkflowHandler } from "./handler.js";
export { constantDelay, exponentialBackoff, type RetryPolicy } from "./retry.js";
export type * from "./run-state.js";
export type { IsLooseState, StatePath, StatePathDepth, StateValue } from "./state-paths.js";
export type { LooseStateStore, StateStore, TypedStateStore } from "./state-store.js";
export { UndeclaredEventError } from "./step-results.js";
export {
  type StreamTextOptions,
  type TextDelta,
  TextDeltaEvent,
  TextEvent,
} from "./text-stream.js";
export { ToolCallEvent, ToolResultEvent } from "./tool-events.js";
export {
  type AcceptedEventsOf,
  type AnyWorkflow,
  type ResultFromEmits,
  type ResultOf,
  type StartEventOf,
  type StartInput,
  type StateOf,
  type StepDeclaration,
  type StepOptions,
  type StepResult,
  Workflow,
  type WorkflowOptions,
} from "./workflow.js";
