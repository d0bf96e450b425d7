// eventloom/react: React hooks over the WorkflowClient. React is an optional peer dependency.
export type { StreamedText } from "../client/text-streams.js";
export type { EventEnvelope, HandlerInfo } from "../protocol/codec.js";
export { useWorkflowClient, WorkflowProvider, type WorkflowProviderProps } from "./provider.js";
export type {
  Register,
  RegisteredName,
  RegisteredResult,
  RegisteredStart,
  RegisteredWorkflows,
} from "./register.js";
export {
  type HandlerIdStorage,
  type RunConnection,
  RunFollower,
  type RunFollowerOptions,
  type RunSnapshot,
} from "./run-follower.js";
export {
  type QueryState,
  type UseHandlersFilters,
  useHandler,
  useHandlers,
  useWorkflows,
} from "./use-queries.js";
export { type UseWorkflowRunOptions, useWorkflowRun, type WorkflowRun } from "./use-workflow-run.js";
