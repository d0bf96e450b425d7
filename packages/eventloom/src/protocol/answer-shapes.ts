import {
  array,
  isTrue,
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
  ScheduleList,
  SendEventResponse,
  WorkflowEventsResponse,
  WorkflowList,
  WorkflowSchemaResponse,
} from "./wire.js";
import {
  BLOCKED_CODES,
  CANCEL_STATUSES,
  HANDLER_STATUSES,
  HEALTH_STATUSES,
  ISO_TIMESTAMP,
} from "./wire-values.js";

/*
 * The answers the client reads, checked without zod so that the browser client stays small. Each
 * mirrors the zod schema of the same name in `wire.ts` (typed by it, and checked against it on
 * examples by test/protocol/answer-shapes.test.ts): change both together.
 */

const timestamp = matching(ISO_TIMESTAMP, "an ISO 8601 UTC timestamp");

/** A handler (`HandlerDataSchema`). */
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
  workflow_version: optional(nullable(string)),
  blocked: optional(nullable(object({ code: oneOf(BLOCKED_CODES), detail: string, since: timestamp }))),
  result_truncated: optional(isTrue),
  error_truncated: optional(isTrue),
  waiting_for: optional(object({ sequence: natural, type: string, qualified_name: string, value: record })),
  start_event: optional(nullable(object({ type: string, qualified_name: string, value: record }))),
  parent_handler_id: optional(nullable(string)),
  schedule_id: optional(nullable(string)),
  queued: optional(isTrue),
  queue_position: optional(natural),
});

/** One page of handlers (`HandlerListSchema`). */
export const HandlerListShape: Shape<HandlerList> = object({
  handlers: array(HandlerDataShape),
  next_cursor: nullable(string),
});

/** Run-nowait's answer (`RunNowaitResponseSchema`). */
export const RunNowaitResponseShape: Shape<RunNowaitResponse> = object({
  handler_id: string,
  status: oneOf(["started"]),
  workflow_name: string,
  run_id: string,
  started_at: timestamp,
});

/** An event of a stream (`EnvelopeSchema`). */
export const EnvelopeShape: Shape<Envelope> = object({
  value: record,
  qualified_name: optional(string),
  type: string,
  types: array(string),
  sequence: natural,
  timestamp: optional(string),
});

/** POST /events/{id}'s answer (`SendEventResponseSchema`). */
export const SendEventResponseShape: Shape<SendEventResponse> = object({ status: oneOf(["sent"]) });

/** Cancel's answer (`CancelResponseSchema`). */
export const CancelResponseShape: Shape<CancelResponse> = object({ status: oneOf(CANCEL_STATUSES) });

/** GET /health's answer (`HealthSchema`). */
export const HealthShape: Shape<Health> = object({ status: oneOf(HEALTH_STATUSES) });

/** GET /workflows' answer (`WorkflowListSchema`). */
export const WorkflowListShape: Shape<WorkflowList> = object({ workflows: array(string) });

/** GET /schedules' answer (`ScheduleListSchema`). */
export const ScheduleListShape: Shape<ScheduleList> = object({
  schedules: array(
    object({
      schedule_id: string,
      workflow_name: string,
      cron: string,
      timezone: string,
      next_fire_at: nullable(timestamp),
      last_fire_at: nullable(timestamp),
      last_handler_id: nullable(string),
    }),
  ),
});

/** Every error answer (`ErrorBodySchema`). */
export const ErrorBodyShape: Shape<ErrorBody> = object({
  detail: string,
  code: string,
  issues: optional(array(object({ path: string, message: string }))),
});

/** GET /workflows/{name}/schema's answer (`WorkflowSchemaResponseSchema`). */
export const WorkflowSchemaResponseShape: Shape<WorkflowSchemaResponse> = object({
  start: record,
  stop: record,
});

/** GET /workflows/{name}/events' answer (`WorkflowEventsResponseSchema`). */
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

/** A workflow's graph (`RepresentationSchema`). */
export const RepresentationShape: Shape<Representation> = object({
  graph: object({
    name: string,
    nodes: array(GraphNodeShape),
    edges: array(object({ source: string, target: string })),
  }),
});
