import type { z } from "zod";
import type { OperationId } from "./routes.js";
import {
  CancelQuerySchema,
  CancelResponseSchema,
  EnvelopeSchema,
  ErrorBodySchema,
  EventsQuerySchema,
  ForkRequestSchema,
  HandlerDataSchema,
  HandlerListSchema,
  HandlersQuerySchema,
  HealthSchema,
  ReadySchema,
  RepresentationSchema,
  RunNowaitResponseSchema,
  RunRequestSchema,
  ScheduleListSchema,
  SendEventRequestSchema,
  SendEventResponseSchema,
  WorkflowEventsResponseSchema,
  WorkflowListSchema,
  WorkflowSchemaResponseSchema,
  wireRegistry,
} from "./wire.js";

/** A JSON value as the OpenAPI document holds it. */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

/**
 * The schema half of a route of routes.ts: what it takes and answers, as the OpenAPI document
 * describes it. Path parameters come from the route's path template.
 */
export interface RouteDoc {
  summary: string;
  /** The query's fields, one parameter each. */
  query?: z.ZodObject;
  /** Header parameters, as OpenAPI writes them. */
  headers?: JsonObject[];
  body?: { schema: z.ZodType; required: boolean };
  /**
   * By status; 401 is added for every route that needs the token, 403 (Host) to every route, 415
   * to every POST, and the Idempotency-Key's answers to the routes that take one.
   */
  responses: JsonObject;
  /** The route takes an `Idempotency-Key` (round 2 §2). */
  idempotent?: boolean;
}

export const COMPONENTS = "#/components/schemas/";

const idOf = (schema: z.ZodType): string => {
  const id = wireRegistry.get(schema)?.id;
  if (!id) throw new Error("Schema is not a named wire schema");
  return id;
};

/** A reference to a named wire schema in the document's components. */
export const ref = (schema: z.ZodType): JsonObject => ({ $ref: `${COMPONENTS}${idOf(schema)}` });

const json = (schema: z.ZodType, description: string): JsonObject => ({
  description,
  content: { "application/json": { schema: ref(schema) } },
});
/** An error answer: `{detail, code, issues?}`. */
export const error = (description: string): JsonObject => json(ErrorBodySchema, description);

const runResponses = {
  "400": error(
    "A bad body: malformed JSON (INVALID_JSON), wrong fields or an invalid start event, a `__proto__`, " +
      "`constructor` or `prototype` key (FORBIDDEN_KEY), a `context` the server does not accept " +
      "(CONTEXT_NOT_ACCEPTED), or a malformed Idempotency-Key (INVALID_IDEMPOTENCY_KEY).",
  ),
  "404": error("No workflow of that name."),
  "409": error(
    "`handler_id` names a handler that is still running (HANDLER_RUNNING), or the request first sent with " +
      "this Idempotency-Key is still being executed (IDEMPOTENCY_KEY_IN_USE).",
  ),
  "413": error("The body is over the size limit."),
  "503": error(
    "The store refuses writes (STORE_UNAVAILABLE) or the server is shutting down (SERVER_CLOSING); " +
      "`Retry-After` says when to try again, and `handler_id` names the handler when one may exist.",
  ),
};
/** What an Idempotency-Key adds to a route's answers (the 409 is in the route's own). */
export const IDEMPOTENCY_RESPONSES: JsonObject = {
  "422": error(
    "The Idempotency-Key was first used with another request: another method, path, query or body " +
      "(IDEMPOTENCY_KEY_REUSED).",
  ),
};
/** The Idempotency-Key header parameter. */
export const IDEMPOTENCY_HEADER: JsonObject = {
  name: "Idempotency-Key",
  in: "header",
  required: false,
  description:
    "1 to 200 visible ASCII characters. The first request with a key is executed; a later one with the " +
    "same key, method, path, query and body gets the first one's answer again (with `Idempotent-Replayed: " +
    "true`) and executes nothing. Keys are kept `idempotencyTtlMs` (default 24 hours).",
  schema: { type: "string", minLength: 1, maxLength: 200, pattern: "^[!-~]+$" },
};
const noWorkflow = error("No workflow of that name.");
/** The header of the routes whose answers depend on the wire dialect (wire-dialect.ts). */
const wireHeader: JsonObject[] = [
  {
    name: "X-Workflows-Wire",
    in: "header",
    required: false,
    description:
      "The dialect to answer in; default the server's (`wire`, WORKFLOWS_WIRE). `seed`: the shapes of this " +
      "document. `llama-agents`: LlamaIndex's clients' shapes: run-nowait answers the whole HandlerData " +
      "(status `running`); `result` is the stop event's envelope (value, qualified_name, type, types) on " +
      "run and /handlers; /handlers is unpaged without limit or cursor; lookups answer 202 running, 200 " +
      "completed, 500 failed or cancelled. Any other value: 400 INVALID_HEADER.",
    schema: { type: "string", enum: ["seed", "llama-agents"] },
  },
];
const noHandler = error("No handler of that id.");

/** Every route's schemas, by the operation id of routes.ts. */
export const ROUTE_DOCS: Record<OperationId, RouteDoc> = {
  getHealth: {
    summary: "Health check",
    responses: {
      "200": json(HealthSchema, "The server is healthy."),
      "503": json(HealthSchema, "The server is starting or shutting down."),
    },
  },
  getReady: {
    summary: "Readiness: does the store take writes?",
    responses: {
      "200": json(ReadySchema, "The store takes writes."),
      "503": json(
        ErrorBodySchema,
        "The store does not take writes (code STORE_UNAVAILABLE) or the server is not serving.",
      ),
    },
  },
  listSchedules: {
    summary: "The schedules, with their next fire time and last run",
    responses: { "200": json(ScheduleListSchema, "Every schedule, in registration order.") },
  },
  listWorkflows: {
    summary: "The registered workflows' names",
    responses: { "200": json(WorkflowListSchema, "The names, in registration order.") },
  },
  runWorkflow: {
    summary: "Run a workflow and wait for its end",
    headers: wireHeader,
    idempotent: true,
    body: { schema: RunRequestSchema, required: false },
    responses: {
      "200": json(HandlerDataSchema, "The run completed."),
      ...runResponses,
      "500": json(HandlerDataSchema, "The run failed or was cancelled: status and error say how."),
    },
  },
  runWorkflowNowait: {
    summary: "Start a workflow and answer at once",
    headers: wireHeader,
    idempotent: true,
    body: { schema: RunRequestSchema, required: false },
    responses: { "200": json(RunNowaitResponseSchema, "The handler is recorded."), ...runResponses },
  },
  getWorkflowSchema: {
    summary: "JSON Schemas of the start and stop events",
    responses: { "200": json(WorkflowSchemaResponseSchema, "The schemas."), "404": noWorkflow },
  },
  getWorkflowEventSchemas: {
    summary: "JSON Schemas of every event the workflow declares",
    responses: {
      "200": json(WorkflowEventsResponseSchema, "The schemas; each title is the event's type."),
      "404": noWorkflow,
    },
  },
  getWorkflowRepresentation: {
    summary: "The workflow's graph",
    responses: { "200": json(RepresentationSchema, "Nodes and edges."), "404": noWorkflow },
  },
  getResult: {
    summary: "A run's result",
    headers: wireHeader,
    responses: {
      "200": json(HandlerDataSchema, "The run has ended (any terminal status)."),
      "202": json(HandlerDataSchema, "The run is still going."),
      "404": noHandler,
    },
  },
  streamEvents: {
    summary: "Stream a handler's events: stored ones after the cursor, then live ones",
    query: EventsQuerySchema,
    headers: [
      {
        name: "Last-Event-ID",
        in: "header",
        required: false,
        description: "SSE only: overrides after_sequence.",
        schema: { type: "string" },
      },
    ],
    responses: {
      "200": {
        description:
          "The stream, ending right after the terminal event. SSE frames are `id: <sequence>` and " +
          "`data: <Envelope>`; NDJSON has one Envelope per line.",
        content: {
          "text/event-stream": { schema: { type: "string" } },
          "application/x-ndjson": { schema: ref(EnvelopeSchema) },
        },
      },
      "204": { description: "The run has ended and nothing is left after the cursor." },
      "400": error("A bad query (INVALID_QUERY), e.g. a bad cursor."),
      "404": noHandler,
    },
  },
  sendEvent: {
    summary: "Send an event into a running handler",
    idempotent: true,
    body: { schema: SendEventRequestSchema, required: true },
    responses: {
      "200": json(SendEventResponseSchema, "The event is durably recorded."),
      "400": error(
        "A bad or unknown event, an unknown step, a step that does not accept it, an event that may not " +
          "come from outside the run (EVENT_NOT_ACCEPTED_FROM_OUTSIDE: the detail names those accepted), " +
          "or a FORBIDDEN_KEY.",
      ),
      "404": noHandler,
      "409": error(
        "The run has already ended (HANDLER_ENDED), cannot go on with the code now loaded (HANDLER_BLOCKED), " +
          "or the request first sent with this Idempotency-Key is still being executed (IDEMPOTENCY_KEY_IN_USE).",
      ),
      "413": error("The body is over the size limit."),
      "503": error("The store refuses writes (STORE_UNAVAILABLE); `Retry-After` says when to try again."),
    },
  },
  listHandlers: {
    summary: "Handlers, newest first, one page at a time",
    headers: wireHeader,
    query: HandlersQuerySchema,
    responses: { "200": json(HandlerListSchema, "One page."), "400": error("A bad filter or cursor.") },
  },
  getHandler: {
    summary: "One handler, whatever its status",
    headers: wireHeader,
    responses: { "200": json(HandlerDataSchema, "The handler."), "404": noHandler },
  },
  cancelHandler: {
    summary: "Cancel a running handler, optionally deleting it",
    idempotent: true,
    query: CancelQuerySchema,
    responses: {
      "200": json(CancelResponseSchema, "Cancelled, or deleted with purge=true."),
      "202": json(
        CancelResponseSchema,
        "`cancelling`: the process that runs the handler has the cancellation (durably) but has not applied it yet.",
      ),
      "404": noHandler,
      "409": error(
        "The run has already ended, without purge (HANDLER_ENDED), or the request first sent with this " +
          "Idempotency-Key is still being executed (IDEMPOTENCY_KEY_IN_USE).",
      ),
      "503": error("The store refuses writes (STORE_UNAVAILABLE); `Retry-After` says when to try again."),
    },
  },
  forkHandler: {
    summary:
      "Start a new run from a handler's: a re-run (same or edited start event) or a fork from a stored event",
    headers: wireHeader,
    body: { schema: ForkRequestSchema, required: false },
    responses: {
      "200": json(RunNowaitResponseSchema, "The new handler is recorded (it runs as run-nowait's do)."),
      "400": error(
        "A bad body (INVALID_BODY, both fields given), a start event that does not fit (VALIDATION_ERROR), or a " +
          "from_sequence that names no stored event a step accepts (INVALID_FORK_POINT).",
      ),
      "404": error(
        "No handler of that id (HANDLER_NOT_FOUND), or its workflow is not served (WORKFLOW_NOT_FOUND).",
      ),
      "409": error(
        "A re-run without start_event of a handler whose start event was not kept (START_EVENT_NOT_KEPT).",
      ),
      "503": error("The store refuses writes (STORE_UNAVAILABLE); `Retry-After` says when to try again."),
    },
  },
  getOpenApi: {
    summary: "This document",
    responses: {
      "200": { description: "An OpenAPI 3.1 document.", content: { "application/json": {} } },
    },
  },
  getMetrics: {
    summary: "This process's metrics, in the Prometheus text format",
    responses: {
      "200": {
        description:
          "Counters, gauges and histograms of this server process (Prometheus text exposition format 0.0.4).",
        content: { "text/plain": { schema: { type: "string" } } },
      },
    },
  },
};
