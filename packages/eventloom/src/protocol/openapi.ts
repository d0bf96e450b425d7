import { z } from "zod";
import {
  CancelQuerySchema,
  CancelResponseSchema,
  EnvelopeSchema,
  ErrorBodySchema,
  EventsQuerySchema,
  HandlerDataSchema,
  HandlerListSchema,
  HandlersQuerySchema,
  HealthSchema,
  RepresentationSchema,
  RunNowaitResponseSchema,
  RunRequestSchema,
  SendEventRequestSchema,
  SendEventResponseSchema,
  WorkflowEventsResponseSchema,
  WorkflowListSchema,
  WorkflowSchemaResponseSchema,
  wireRegistry,
} from "./wire.js";

/** A JSON value as the OpenAPI document holds it. */
type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

/** An OpenAPI 3.1 document (loosely typed: it is data to serve, not to program against). */
export interface OpenApiDocument {
  openapi: "3.1.0";
  info: { title: string; version: string; description?: string };
  /** Bearer auth; it only applies when the server is configured with a token. */
  security: Json[];
  paths: Record<string, Record<string, JsonObject>>;
  components: { schemas: Record<string, JsonObject>; securitySchemes: Record<string, JsonObject> };
}

export interface OpenApiOptions {
  /** Default "Workflows server". */
  title?: string;
  /** Default "1.0.0". */
  version?: string;
}

const COMPONENTS = "#/components/schemas/";

// One z.toJSONSchema pass over the wire registry gives every named schema, cross-referenced.
function componentSchemas(): Record<string, JsonObject> {
  const out = z.toJSONSchema(wireRegistry, {
    metadata: wireRegistry,
    uri: (id) => `${COMPONENTS}${id}`,
    // the input side: no `additionalProperties: false`, since readers ignore fields they do not know
    io: "input",
    unrepresentable: "any",
  }) as { schemas: Record<string, JsonObject> };
  const schemas: Record<string, JsonObject> = {};
  for (const [id, schema] of Object.entries(out.schemas)) {
    const { $schema: _s, $id: _i, ...rest } = schema;
    schemas[id] = rest;
  }
  return schemas;
}

const idOf = (schema: z.ZodType): string => {
  const id = wireRegistry.get(schema)?.id;
  if (!id) throw new Error("Schema is not a named wire schema");
  return id;
};

const ref = (schema: z.ZodType): JsonObject => ({ $ref: `${COMPONENTS}${idOf(schema)}` });

// A standalone schema (a query parameter's) whose named parts point into components, not $defs.
function inlineSchema(schema: z.ZodType): JsonObject {
  const out = z.toJSONSchema(schema, {
    metadata: wireRegistry,
    io: "input",
    unrepresentable: "any",
  }) as JsonObject;
  const { $schema: _s, $defs: _d, ...rest } = out;
  return JSON.parse(JSON.stringify(rest).replaceAll('"#/$defs/', `"${COMPONENTS}`)) as JsonObject;
}

function queryParameters(schema: z.ZodObject): JsonObject[] {
  return Object.entries(schema.shape).map(([name, field]) => {
    const fieldSchema = field as z.ZodType;
    const json = inlineSchema(fieldSchema);
    const { description, ...rest } = json;
    const parameter: JsonObject = {
      name,
      in: "query",
      required: !fieldSchema.safeParse(undefined).success,
      schema: rest,
    };
    if (typeof description === "string") parameter["description"] = description;
    if (rest["type"] === "array") {
      parameter["style"] = "form";
      parameter["explode"] = true;
    }
    return parameter;
  });
}

const pathParameter = (name: string, description: string): JsonObject => ({
  name,
  in: "path",
  required: true,
  description,
  schema: { type: "string" },
});
const workflowName = pathParameter("name", "A registered workflow's name.");
const handlerId = pathParameter("handler_id", "A handler's id.");

const json = (schema: z.ZodType, description: string): JsonObject => ({
  description,
  content: { "application/json": { schema: ref(schema) } },
});
const error = (description: string): JsonObject => json(ErrorBodySchema, description);
const body = (schema: z.ZodType, required: boolean): JsonObject => ({
  required,
  content: { "application/json": { schema: ref(schema) } },
});

const commonErrors: JsonObject = {
  "401": error("A token is configured and the request has none or a wrong one."),
};

interface Operation {
  operationId: string;
  summary: string;
  parameters?: JsonObject[];
  requestBody?: JsonObject;
  responses: JsonObject;
  security?: Json[];
}

function operation(op: Operation, open = false): JsonObject {
  const out: JsonObject = {
    operationId: op.operationId,
    summary: op.summary,
    responses: open ? op.responses : { ...op.responses, ...commonErrors },
  };
  if (op.parameters) out["parameters"] = op.parameters;
  if (op.requestBody) out["requestBody"] = op.requestBody;
  if (open) out["security"] = [];
  return out;
}

/**
 * The OpenAPI 3.1 document of every endpoint of the HTTP contract, generated from the same zod
 * schemas that validate the wire.
 *
 * @example
 * const doc = buildOpenApiDocument({ title: "My workflows", version: "1.2.0" });
 */
export function buildOpenApiDocument(options: OpenApiOptions = {}): OpenApiDocument {
  const runResponses = {
    "400": error("A bad body: malformed JSON (INVALID_JSON), wrong fields or an invalid start event."),
    "404": error("No workflow of that name."),
    "409": error("`handler_id` names a handler that is still running."),
    "413": error("The body is over the size limit."),
  };
  return {
    openapi: "3.1.0",
    info: {
      title: options.title ?? "Workflows server",
      version: options.version ?? "1.0.0",
      description: "Run event-driven workflows, stream their events and send events into them.",
    },
    security: [{ bearer: [] }],
    paths: {
      "/health": {
        get: operation(
          {
            operationId: "getHealth",
            summary: "Health check",
            responses: {
              "200": json(HealthSchema, "The server is healthy."),
              "503": json(HealthSchema, "The server is starting or shutting down."),
            },
          },
          true,
        ),
      },
      "/workflows": {
        get: operation({
          operationId: "listWorkflows",
          summary: "The registered workflows' names",
          responses: { "200": json(WorkflowListSchema, "The names, in registration order.") },
        }),
      },
      "/workflows/{name}/run": {
        post: operation({
          operationId: "runWorkflow",
          summary: "Run a workflow and wait for its end",
          parameters: [workflowName],
          requestBody: body(RunRequestSchema, false),
          responses: {
            "200": json(HandlerDataSchema, "The run completed."),
            ...runResponses,
            "500": json(HandlerDataSchema, "The run failed or was cancelled: status and error say how."),
          },
        }),
      },
      "/workflows/{name}/run-nowait": {
        post: operation({
          operationId: "runWorkflowNowait",
          summary: "Start a workflow and answer at once",
          parameters: [workflowName],
          requestBody: body(RunRequestSchema, false),
          responses: { "200": json(RunNowaitResponseSchema, "The handler is recorded."), ...runResponses },
        }),
      },
      "/workflows/{name}/schema": {
        get: operation({
          operationId: "getWorkflowSchema",
          summary: "JSON Schemas of the start and stop events",
          parameters: [workflowName],
          responses: {
            "200": json(WorkflowSchemaResponseSchema, "The schemas."),
            "404": error("No workflow of that name."),
          },
        }),
      },
      "/workflows/{name}/events": {
        get: operation({
          operationId: "getWorkflowEventSchemas",
          summary: "JSON Schemas of every event the workflow declares",
          parameters: [workflowName],
          responses: {
            "200": json(WorkflowEventsResponseSchema, "The schemas; each title is the event's type."),
            "404": error("No workflow of that name."),
          },
        }),
      },
      "/workflows/{name}/representation": {
        get: operation({
          operationId: "getWorkflowRepresentation",
          summary: "The workflow's graph",
          parameters: [workflowName],
          responses: {
            "200": json(RepresentationSchema, "Nodes and edges."),
            "404": error("No workflow of that name."),
          },
        }),
      },
      "/results/{handler_id}": {
        get: operation({
          operationId: "getResult",
          summary: "A run's result",
          parameters: [handlerId],
          responses: {
            "200": json(HandlerDataSchema, "The run has ended (any terminal status)."),
            "202": json(HandlerDataSchema, "The run is still going."),
            "404": error("No handler of that id."),
          },
        }),
      },
      "/events/{handler_id}": {
        get: operation({
          operationId: "streamEvents",
          summary: "Stream a handler's events: stored ones after the cursor, then live ones",
          parameters: [
            handlerId,
            ...queryParameters(EventsQuerySchema),
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
            "404": error("No handler of that id."),
          },
        }),
        post: operation({
          operationId: "sendEvent",
          summary: "Send an event into a running handler",
          parameters: [handlerId],
          requestBody: body(SendEventRequestSchema, true),
          responses: {
            "200": json(SendEventResponseSchema, "The event is durably recorded."),
            "400": error("A bad or unknown event, an unknown step, or a step that does not accept it."),
            "404": error("No handler of that id."),
            "409": error("The run has already ended."),
            "413": error("The body is over the size limit."),
          },
        }),
      },
      "/handlers": {
        get: operation({
          operationId: "listHandlers",
          summary: "Handlers, newest first, one page at a time",
          parameters: queryParameters(HandlersQuerySchema),
          responses: {
            "200": json(HandlerListSchema, "One page."),
            "400": error("A bad filter or cursor."),
          },
        }),
      },
      "/handlers/{handler_id}": {
        get: operation({
          operationId: "getHandler",
          summary: "One handler, whatever its status",
          parameters: [handlerId],
          responses: {
            "200": json(HandlerDataSchema, "The handler."),
            "404": error("No handler of that id."),
          },
        }),
      },
      "/handlers/{handler_id}/cancel": {
        post: operation({
          operationId: "cancelHandler",
          summary: "Cancel a running handler, optionally deleting it",
          parameters: [handlerId, ...queryParameters(CancelQuerySchema)],
          responses: {
            "200": json(CancelResponseSchema, "Cancelled, or deleted with purge=true."),
            "404": error("No handler of that id."),
            "409": error("The run has already ended (without purge)."),
          },
        }),
      },
      "/openapi.json": {
        get: operation({
          operationId: "getOpenApi",
          summary: "This document",
          responses: {
            "200": { description: "An OpenAPI 3.1 document.", content: { "application/json": {} } },
          },
        }),
      },
    },
    components: {
      schemas: componentSchemas(),
      securitySchemes: { bearer: { type: "http", scheme: "bearer" } },
    },
  };
}
