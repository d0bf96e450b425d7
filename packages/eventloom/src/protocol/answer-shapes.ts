import {
  array,
  matching,
  natural,
  nullable,
  object,
  oneOf,
  optional,
  record,
  type Shape,
  string,
  tagged,
  unknown,
} from "./shape.js";
import type {
  CancelResponse,
  Envelope,
  ErrorBody,
  GraphNode,
  HandlerData,
  HandlerList,
  Health,
  Representation,
  RunNowaitResponse,
  SendEventResponse,
  WorkflowEventsResponse,
  WorkflowList,
  WorkflowSchemaResponse,
} from "./wire.js";
import { CANCEL_STATUSES, HANDLER_STATUSES, HEALTH_STATUSES, ISO_TIMESTAMP } from "./wire-values.js";

/*
 * The answers the client reads, checked without zod so that the browser client stays small. Each
 * mirrors the zod schema of the same name in `wire.ts` (typed by it, and checked against it on
 * examples by test/protocol/answer-shapes.test.ts): change both together.
 */

const timestamp = matching(ISO_TIMESTAMP, "an ISO 8601 UTC timestamp");

export const HandlerDataShape: Shape<HandlerData> = object({
  handler_id: string,
  workflow_name: string,
  run_id: string,
  status: oneOf(HANDLER_STATUSES),
  result: unknown,
  error: nullable(string),
  started_at: timestamp,
  updated_at: timestamp,
  completed_at: nullable(timestamp),
});

export const HandlerListShape: Shape<HandlerList> = object({
  handlers: array(HandlerDataShape),
  next_cursor: nullable(string),
});

export const RunNowaitResponseShape: Shape<RunNowaitResponse> = object({
  handler_id: string,
  status: oneOf(["started"]),
  workflow_name: string,
  run_id: string,
  started_at: timestamp,
});

export const EnvelopeShape: Shape<Envelope> = object({
  value: record,
  qualified_name: optional(string),
  type: string,
  types: array(string),
  sequence: natural,
  timestamp: optional(string),
});

export const SendEventResponseShape: Shape<SendEventResponse> = object({ status: oneOf(["sent"]) });

export const CancelResponseShape: Shape<CancelResponse> = object({ status: oneOf(CANCEL_STATUSES) });

export const HealthShape: Shape<Health> = object({ status: oneOf(HEALTH_STATUSES) });

export const WorkflowListShape: Shape<WorkflowList> = object({ workflows: array(string) });

export const ErrorBodyShape: Shape<ErrorBody> = object({
  detail: string,
  code: string,
  issues: optional(array(object({ path: string, message: string }))),
});

export const WorkflowSchemaResponseShape: Shape<WorkflowSchemaResponse> = object({
  start: record,
  stop: record,
});

export const WorkflowEventsResponseShape: Shape<WorkflowEventsResponse> = object({ events: array(record) });

const GraphNodeShape: Shape<GraphNode> = tagged("node_type", {
  step: object({ id: string, label: string, node_type: oneOf(["step"]) }),
  event: object({
    id: string,
    label: string,
    node_type: oneOf(["event"]),
    event_type: string,
    event_types: array(string),
    event_schema: record,
  }),
  external: object({ id: string, label: string, node_type: oneOf(["external"]) }),
});

export const RepresentationShape: Shape<Representation> = object({
  graph: object({
    name: string,
    nodes: array(GraphNodeShape),
    edges: array(object({ source: string, target: string })),
  }),
});
