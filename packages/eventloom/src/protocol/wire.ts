import "../core/zod-check.js"; // first: a zod 3 install fails here with one clear line
import { z } from "zod";
import { BLOCKED_CODES, CANCEL_STATUSES, HANDLER_STATUSES, HEALTH_STATUSES } from "./wire-values.js";

/**
 * The wire contract of `docs/HTTP-API.md` as zod schemas. Field names are snake_case
 * exactly as they travel; the camelCase mapping lives in `codec.ts` and nowhere else. The client
 * checks the answers it reads with the zod-free mirrors of `answer-shapes.ts`: change both together.
 *
 * Schemas are registered in {@link wireRegistry} (ids and descriptions) rather than zod's global
 * registry, so that two copies of this module in one process (sources and dist) never clash and so
 * that the OpenAPI document holds exactly these schemas.
 */
export interface WireMeta {
  id?: string;
  description?: string;
  examples?: unknown[];
  // zod 4.0's registries require an index signature of their metadata type.
  [key: string]: unknown;
}

/** Ids and descriptions of the wire schemas: the source of the OpenAPI document's components. */
export const wireRegistry = z.registry<WireMeta>();

function named<T extends z.ZodType>(schema: T, id: string, description: string, examples?: unknown[]): T {
  wireRegistry.add(schema, examples === undefined ? { id, description } : { id, description, examples });
  return schema;
}

function described<T extends z.ZodType>(schema: T, description: string): T {
  wireRegistry.add(schema, { description });
  return schema;
}

/** `^[A-Za-z0-9_.-]{1,128}$`: what a client-supplied handler id must match. */
export const HANDLER_ID_PATTERN = /^[A-Za-z0-9_.-]{1,128}$/;

const timestamp = () => z.iso.datetime({ offset: false });
const jsonObject = () => z.record(z.string(), z.unknown());

// ---------------------------------------------------------------------------------------------
// Handlers

export const HandlerStatusSchema = named(
  z.enum(HANDLER_STATUSES),
  "HandlerStatus",
  "A handler's status: `running` until the run ends, then how it ended.",
);
export type HandlerStatus = z.infer<typeof HandlerStatusSchema>;

export const BlockedSchema = named(
  z.object({
    code: z.enum(BLOCKED_CODES),
    detail: described(z.string(), "Names the step, event or field that no longer fits."),
    since: described(timestamp(), "When the server found it blocked."),
  }),
  "Blocked",
  "Why a running handler cannot go on with the code now loaded: `WORKFLOW_CHANGED` (a step, the workflow or an event it needs is gone) or `SCHEMA_CHANGED` (its stored events or state no longer fit their schemas). It stays `running`: cancel it, or start the server with code that fits, which resumes it.",
);
export type Blocked = z.infer<typeof BlockedSchema>;

export const HandlerDataSchema = named(
  z.object({
    handler_id: z.string(),
    workflow_name: z.string(),
    run_id: z.string(),
    status: HandlerStatusSchema,
    result: described(z.unknown(), "The run's result once completed, else null."),
    error: described(z.string().nullable(), "A message when failed, else null."),
    started_at: timestamp(),
    updated_at: timestamp(),
    completed_at: described(timestamp().nullable(), "Set when the status becomes terminal, else null."),
    workflow_version: described(
      z.string().nullable().optional(),
      "The `version` of the workflow the run started on; null when it declares none.",
    ),
    blocked: described(
      BlockedSchema.nullable().optional(),
      "Set while the run cannot go on with the code now loaded; null otherwise.",
    ),
    result_truncated: described(
      z.literal(true).optional(),
      "In a listing: the result was left out (null) for its size; GET /handlers/{handler_id} has it.",
    ),
    waiting_for: described(
      z
        .object({
          sequence: z.number().int(),
          type: z.string(),
          qualified_name: z.string(),
          value: z.record(z.string(), z.unknown()),
        })
        .optional(),
      "In `GET /handlers?waiting=true` only: the input-required event the run waits on (its question).",
    ),
    start_event: described(
      z
        .object({ type: z.string(), qualified_name: z.string(), value: z.record(z.string(), z.unknown()) })
        .nullable()
        .optional(),
      "GET /handlers/{handler_id} only: the event the handler's latest run started with (its short name, qualified name and fields), to show it or start the run again; null when the store kept none (a run started before the server kept them, or not by a request).",
    ),
  }),
  "HandlerData",
  "A handler: one workflow run (or a chain of continued runs) under a stable id.",
  [
    {
      handler_id: "someUniqueId123",
      workflow_name: "math_workflow",
      run_id: "uniqueRunId456",
      status: "completed",
      result: { sum: 15, subtraction: 9 },
      error: null,
      started_at: "2024-10-21T14:32:15.123Z",
      updated_at: "2024-10-21T14:45:30.456Z",
      completed_at: "2024-10-21T14:45:30.456Z",
      workflow_version: "2",
      blocked: null,
    },
  ],
);
export type HandlerData = z.infer<typeof HandlerDataSchema>;

export const HandlerListSchema = named(
  z.object({
    handlers: z.array(HandlerDataSchema),
    next_cursor: described(
      z.string().nullable(),
      "The `cursor` of the next page; null when there is no more.",
    ),
  }),
  "HandlerList",
  "One page of handlers, newest first. A result whose JSON is longer than 4096 bytes is left out (`result: null`, `result_truncated: true`): read the handler for it.",
);
export type HandlerList = z.infer<typeof HandlerListSchema>;

// ---------------------------------------------------------------------------------------------
// Runs

const incomingEvent = () => z.union([jsonObject(), z.string()]);

export const RunRequestSchema = named(
  z.object({
    start_event: described(
      incomingEvent().nullable().optional(),
      "The start event: {type,value}, {type,data}, {__is_pydantic,value,qualified_name}, a bare object of " +
        "the start event's fields, or a JSON string of any of them.",
    ),
    context: described(
      jsonObject().nullable().optional(),
      "A serialized Context to start from; `{}` is ignored.",
    ),
    kwargs: described(
      jsonObject().nullable().optional(),
      "LlamaIndex's form: the start event's fields, when `start_event` is missing; `{}` is ignored. " +
        "Both a `start_event` and non-empty `kwargs` is a 400.",
    ),
    handler_id: described(
      z.union([z.literal(""), z.string().regex(HANDLER_ID_PATTERN)]).optional(),
      "Empty or missing: a new id. An ended handler's id: continue it. A running one's: 409.",
    ),
  }),
  "RunRequest",
  "The body of run and run-nowait; every field is optional.",
  [{ start_event: {}, context: {}, handler_id: "" }],
);
export type RunRequest = z.infer<typeof RunRequestSchema>;

export const ForkRequestSchema = named(
  z
    .object({
      start_event: described(
        incomingEvent().nullable().optional(),
        "A re-run's start event, in any form run takes; missing: the one the handler's latest run started with.",
      ),
      from_sequence: described(
        z.number().int().min(0).optional(),
        "Fork: the sequence of a stored event of the run (written to the stream or asking for input) that a step accepts; a new run with the workflow's initial state begins by delivering it. Missing: a re-run from the start.",
      ),
    })
    .strict(),
  "ForkRequest",
  "The body of POST /handlers/{handler_id}/fork: a re-run (same or given start event) or a fork from a stored event. Either field, or none.",
  [{}, { start_event: { topic: "edited" } }, { from_sequence: 4 }],
);
export type ForkRequest = z.infer<typeof ForkRequestSchema>;

export const RunNowaitResponseSchema = named(
  z.object({
    handler_id: z.string(),
    status: z.literal("started"),
    workflow_name: z.string(),
    run_id: z.string(),
    started_at: timestamp(),
  }),
  "RunNowaitResponse",
  "The answer of run-nowait: the handler is recorded (status `running`) before it is sent.",
);
export type RunNowaitResponse = z.infer<typeof RunNowaitResponseSchema>;

// ---------------------------------------------------------------------------------------------
// Events

export const EnvelopeSchema = named(
  z.object({
    value: described(jsonObject(), "The event's fields."),
    qualified_name: described(z.string().optional(), "The event's full registered name."),
    type: described(z.string(), "The short name: the part of the qualified name after the last dot."),
    types: described(
      z.array(z.string()),
      "The lineage as qualified names, from workflows.events.Event down to the event itself.",
    ),
    sequence: described(z.number().int().min(0), "The event's position in its handler's stream, from 0."),
    timestamp: described(
      z.string().optional(),
      "When the event was published (ISO 8601 UTC). Not in the seed; added for debuggers and logs.",
    ),
  }),
  "Envelope",
  "An event as it leaves the server.",
  [
    {
      value: { result: 12 },
      qualified_name: "__main__.MathEvent",
      type: "MathEvent",
      types: ["workflows.events.Event", "__main__.MathEvent"],
      sequence: 4,
    },
  ],
);
export type Envelope = z.infer<typeof EnvelopeSchema>;

export const SendEventRequestSchema = named(
  z.object({
    event: described(
      incomingEvent(),
      "The event: {type,value}, {type,data}, {__is_pydantic,value,qualified_name}, or a JSON string of one.",
    ),
    step: described(z.string().nullable().optional(), "Deliver the event only to this step."),
  }),
  "SendEventRequest",
  "The body of POST /events/{handler_id}.",
  [
    {
      event: {
        __is_pydantic: true,
        value: { feedback: "This is great!", approved: true },
        qualified_name: "__main__.HumanFeedbackEvent",
      },
      step: "process_human_feedback",
    },
  ],
);
export type SendEventRequest = z.infer<typeof SendEventRequestSchema>;

export const SendEventResponseSchema = named(
  z.object({ status: z.literal("sent") }),
  "SendEventResponse",
  "The event is durably recorded.",
);
export type SendEventResponse = z.infer<typeof SendEventResponseSchema>;

export const CancelResponseSchema = named(
  z.object({ status: z.enum(CANCEL_STATUSES) }),
  "CancelResponse",
  "`cancelled`, or `deleted` with purge=true.",
);
export type CancelResponse = z.infer<typeof CancelResponseSchema>;

// ---------------------------------------------------------------------------------------------
// Server and workflows

export const HealthSchema = named(
  z.object({ status: z.enum(HEALTH_STATUSES) }),
  "Health",
  "`healthy` (200), or `unhealthy` (503) while starting or shutting down.",
);
export type Health = z.infer<typeof HealthSchema>;

export const ReadySchema = named(
  z.object({ status: z.literal("ready") }),
  "Ready",
  "`ready` (200): the store takes writes.",
);
export type Ready = z.infer<typeof ReadySchema>;

export const WorkflowListSchema = named(
  z.object({ workflows: z.array(z.string()) }),
  "WorkflowList",
  "The registered workflows' names, in registration order.",
);
export type WorkflowList = z.infer<typeof WorkflowListSchema>;

export const ValidationIssueSchema = named(
  z.object({ path: z.string(), message: z.string() }),
  "ValidationIssue",
  "One problem with a request, located by a dotted path.",
);

export const ErrorBodySchema = named(
  z.object({
    detail: described(z.string(), "A sentence for a person."),
    code: described(z.string(), "A stable SCREAMING_SNAKE identifier for programs."),
    issues: z.array(ValidationIssueSchema).optional(),
    handler_id: described(
      z.string(),
      "On a 5xx of run or run-nowait once the handler may exist: its id (look it up before retrying).",
    ).optional(),
  }),
  "ErrorBody",
  "Every error answer.",
  [{ detail: "Handler not found", code: "HANDLER_NOT_FOUND" }],
);
export type ErrorBody = z.infer<typeof ErrorBodySchema>;

const jsonSchema = () => described(jsonObject(), "A JSON Schema (draft 2020-12).");

export const WorkflowSchemaResponseSchema = named(
  z.object({ start: jsonSchema(), stop: jsonSchema() }),
  "WorkflowSchemaResponse",
  "JSON Schemas of the workflow's start and stop events.",
);
export type WorkflowSchemaResponse = z.infer<typeof WorkflowSchemaResponseSchema>;

export const WorkflowEventsResponseSchema = named(
  z.object({ events: z.array(jsonSchema()) }),
  "WorkflowEventsResponse",
  "JSON Schemas of every event the workflow declares plus its additional events; each `title` is the type.",
);
export type WorkflowEventsResponse = z.infer<typeof WorkflowEventsResponseSchema>;

export const StepNodeSchema = named(
  z.object({ id: z.string(), label: z.string(), node_type: z.literal("step") }),
  "StepNode",
  "A step of the workflow.",
);
export const EventNodeSchema = named(
  z.object({
    id: z.string(),
    label: z.string(),
    node_type: z.literal("event"),
    event_type: z.string(),
    event_types: z.array(z.string()),
    event_schema: jsonObject(),
  }),
  "EventNode",
  "An event kind; `event_types` is its lineage.",
);
export const ExternalNodeSchema = named(
  z.object({ id: z.string(), label: z.string(), node_type: z.literal("external") }),
  "ExternalNode",
  "`external_step`: the outside world answering input-required events.",
);
// Annotated: the inferred type names `ZodDiscriminatedUnion`, whose type parameters differ between
// zod 4 minor versions, so the published types would compile only with the zod we build with.
const graphNodeUnion: z.ZodType<
  z.infer<typeof StepNodeSchema> | z.infer<typeof EventNodeSchema> | z.infer<typeof ExternalNodeSchema>
> = z.discriminatedUnion("node_type", [StepNodeSchema, EventNodeSchema, ExternalNodeSchema]);
export const GraphNodeSchema = named(graphNodeUnion, "GraphNode", "A node of the workflow graph.");
export type GraphNode = z.infer<typeof GraphNodeSchema>;

export const GraphEdgeSchema = named(
  z.object({ source: z.string(), target: z.string() }),
  "GraphEdge",
  "event → accepting step; step → emitted event; input-required event → external_step → response event.",
);
export type GraphEdge = z.infer<typeof GraphEdgeSchema>;

export const RepresentationSchema = named(
  z.object({
    graph: z.object({ name: z.string(), nodes: z.array(GraphNodeSchema), edges: z.array(GraphEdgeSchema) }),
  }),
  "Representation",
  "The workflow's graph of steps and events.",
);
export type Representation = z.infer<typeof RepresentationSchema>;

// ---------------------------------------------------------------------------------------------
// Query strings. Their inputs are strings (arrays for repeatable keys, see `queryRecord`); their
// outputs are typed. Not registered as components: OpenAPI lists them field by field as parameters.

const booleanParam = (fallback: "true" | "false", description: string) =>
  described(z.enum(["true", "false"]).default(fallback), description).transform((v) => v === "true");

const AFTER_SEQUENCE_PATTERN = /^(now|-1|0|[1-9][0-9]{0,15})$/;

export const EventsQuerySchema = z.object({
  sse: booleanParam("true", "`true`: text/event-stream; `false`: application/x-ndjson."),
  include_internal: booleanParam("false", "Also stream internal events (step state changes, idle)."),
  include_qualified_name: booleanParam("true", "With `false`, `qualified_name` is omitted."),
  include_deltas: booleanParam(
    "false",
    "Also stream the text deltas steps write with `ctx.streamText`, which are not stored: SSE frames `event: delta` without an `id`, or NDJSON lines without a `sequence`, `{id, attempt, offset, delta}`.",
  ),
  after_sequence: described(
    z.string().regex(AFTER_SEQUENCE_PATTERN, "Expected an integer >= -1 or `now`").default("-1"),
    "Stream events whose sequence is greater; -1 = from the first, `now` = only later events.",
  ).transform((v): number | "now" => (v === "now" ? "now" : Number(v))),
  acquire_timeout: described(
    z
      .string()
      .refine((v) => v.trim() !== "" && Number.isFinite(Number(v)), "Expected a number")
      .optional(),
    "Accepted for the seed's clients; has no effect (there is no reader lock).",
  ),
});
export type EventsQuery = z.output<typeof EventsQuerySchema>;
export type EventsQueryInput = z.input<typeof EventsQuerySchema>;

const LIMIT_PATTERN = /^[1-9][0-9]{0,3}$/;

export const HandlersQuerySchema = z.object({
  status: described(z.array(HandlerStatusSchema).default([]), "Any of these statuses; repeatable."),
  workflow_name: described(z.array(z.string()).default([]), "Any of these workflows; repeatable."),
  limit: described(
    z
      .string()
      .regex(LIMIT_PATTERN, "Expected an integer from 1 to 1000")
      .refine((v) => Number(v) <= 1000, "Expected an integer from 1 to 1000")
      .default("100"),
    "Page size, 1..1000.",
  ).transform(Number),
  cursor: described(z.string().min(1).optional(), "The `next_cursor` of the previous page."),
  blocked: described(
    z.enum(["true", "false"]).optional(),
    "`true`: only blocked handlers (running, but unable to go on with the code now loaded); `false`: none of them.",
  ).transform((v) => (v === undefined ? undefined : v === "true")),
  waiting: described(
    z.enum(["true", "false"]).optional(),
    "`true`: only running handlers whose latest events ask for input that no step has taken up since, each with `waiting_for`; a page may then hold fewer than `limit` handlers (follow `next_cursor`).",
  ).transform((v) => (v === undefined ? undefined : v === "true")),
});
export type HandlersQuery = z.output<typeof HandlersQuerySchema>;
export type HandlersQueryInput = z.input<typeof HandlersQuerySchema>;

export const CancelQuerySchema = z.object({
  purge: booleanParam("false", "Also delete the handler and everything stored for it."),
});
export type CancelQuery = z.output<typeof CancelQuerySchema>;

/** Query keys that may repeat (the handler filters); every other key takes its last value. */
export const REPEATABLE_QUERY_KEYS: ReadonlySet<string> = new Set(["status", "workflow_name"]);

/**
 * A URL's query as the query schemas' input: arrays for repeatable keys, the last value otherwise.
 * An empty value of a repeatable filter means no filter (`status=&workflow_name=`, as LlamaIndex's
 * Python client sends it); elsewhere an empty value stays an error. Built on a null-prototype object so that a `__proto__` key is
 * just a key.
 */
export function queryRecord(params: URLSearchParams): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = Object.create(null);
  for (const key of new Set(params.keys())) {
    const values = params.getAll(key);
    if (!REPEATABLE_QUERY_KEYS.has(key)) out[key] = values[values.length - 1]!;
    else if (values.some((v) => v !== "")) out[key] = values.filter((v) => v !== "");
  }
  return out;
}
