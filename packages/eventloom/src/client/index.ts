export type {
  EventEnvelope,
  HandlerInfo,
  HandlerPageInfo,
  ScheduleInfo,
  StartEventInfo,
  StartedHandler,
  WaitingForInfo,
  WorkflowGraph,
  WorkflowGraphNode,
} from "../protocol/index.js";
export { BUILTIN_EVENT_NAMES } from "../protocol/wire-values.js";
export {
  ClientTimeoutError,
  WorkflowClientError,
  type WorkflowClientErrorInit,
  WorkflowNetworkError,
} from "./errors.js";
export {
  type EventStreamOptions,
  type FollowRunOptions,
  isTextDelta,
  type RunStreamItem,
  type TextDeltaItem,
} from "./event-stream.js";
export { newIdempotencyKey } from "./retry.js";
export {
  NdjsonSplitter,
  type SseComment,
  type SseEvent,
  type SseItem,
  SseParser,
  type StreamReaderOptions,
} from "./sse-parser.js";
export { isTextEnvelope, type StreamedText, type TextChange, TextStreams } from "./text-streams.js";
export type { CallOptions } from "./transport.js";
export type {
  AnyStartEvent,
  CancelOptions,
  HandlerPageQuery,
  HandlerQuery,
  MutationOptions,
  RawEvent,
  RunWorkflowOptions,
  SendEventOptions,
  StartEventFor,
  StartEventInput,
  UntypedWorkflows,
  WorkflowMap,
  WorkflowName,
} from "./types.js";
export { WorkflowClient, type WorkflowClientOptions } from "./workflow-client.js";
