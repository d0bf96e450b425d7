import "../core/zod-check.js"; // first: a zod 3 install fails here with one clear line
import { z } from "zod";
import { HandlerStatusSchema } from "./wire-queries.js";
import { described, named } from "./wire-registry.js";
import { BLOCKED_CODES, CANCEL_STATUSES, HEALTH_STATUSES } from "./wire-values.js";

export * from "./wire-queries.js";
/**
 * The wire contract of `docs/HTTP-API.md` as zod schemas. Field names are snake_case
 * exactly as they travel; the camelCase mapping lives in `codec.ts` and nowhere else. The client
 * checks the answers it reads with the zod-free mirrors of `answer-shapes.ts`: change both together.
 *
 * Schemas are registered in {@link wireRegistry} (ids and descriptions) rather than zod's global
 * registry, so that two copies of this module in one process (sources and dist) never clash and so
 * that the OpenAPI document holds exactly these schemas.
 */
export { type WireMeta, wireRegistry } from "./wire-registry.js";

/** `^[A-Za-z0-9_.-]{1,128}$`: what a client-supplied handler id must match. */
export const HANDLER_ID_PATTERN = /^[A-Za-z0-9_.-]{1,128}$/;

const timestamp = () => z.iso.datetime({ offset: false });
const jsonObject = () => z.record(z.string(), z.unknown());
/** A listing's mark of a field it cut for its size. */
const cut = (what: string) => described(z.literal(true).optional(), `In a listing, for its size: ${what}.`);

// ---------------------------------------------------------------------------------------------
// Handlers

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
    result_truncated: cut("the result was left out (null); GET /handlers/{handler_id} has it"),
    error_truncated: cut("the error was cut to 1024 characters; GET /handlers/{handler_id} has it whole"),
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
    parent_handler_id: described(
      z.string().nullable().optional(),
      "The handler whose step started this run with `ctx.runWorkflow`; missing otherwise. Its children: GET /handlers?parent_handler_id=…",
    ),
    schedule_id: described(
      z.string().nullable().optional(),
      "The schedule whose fire time started this run; missing otherwise.",
    ),
    queued: described(
      z.literal(true).optional(),
      "The run waits for its workflow's concurrency limit (status `running`, nothing runs yet).",
    ),
    queue_position: described(
      z.number().int().min(1).optional(),
      "GET /handlers/{handler_id} of a queued run: its place in its queue, 1 for the next run to start.",
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
  "One page of handlers, newest first. A result whose JSON is longer than 4096 bytes is left out (`result: null`, `result_truncated: true`), and an error text longer than 4096 bytes is cut to its first 1024 characters (`error_truncated: true`): read the handler for them.",
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
  "`cancelled`, or `deleted` with purge=true; `cancelling` (202) while the process that runs the handler has not applied it yet.",
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

export const ScheduleDataSchema = named(
  z.object({
    schedule_id: z.string(),
    workflow_name: z.string(),
    cron: described(z.string(), "5 fields, or 6 with seconds first."),
    timezone: described(z.string(), "The IANA time zone the fields are read in."),
    next_fire_at: described(timestamp().nullable(), "When it fires next; null when it never will."),
    last_fire_at: described(
      timestamp().nullable(),
      "The last fire time that started a run; null before the first.",
    ),
    last_handler_id: described(
      z.string().nullable(),
      "The handler of that run (its `schedule_id` is this schedule's).",
    ),
  }),
  "ScheduleData",
  "A schedule of `addWorkflow(…, { schedules })`: each fire time starts one run.",
);
export type ScheduleData = z.infer<typeof ScheduleDataSchema>;

export const ScheduleListSchema = named(
  z.object({ schedules: z.array(ScheduleDataSchema) }),
  "ScheduleList",
  "The server's schedules, in registration order.",
);
export type ScheduleList = z.infer<typeof ScheduleListSchema>;

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
