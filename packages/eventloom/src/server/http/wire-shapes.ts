import { Event, StopEvent, WorkflowError, type WorkflowEvent } from "../../core/index.js";
import {
  type HandlerInfo,
  llamaLookupStatus,
  parseWireDialect,
  type ResultEnvelope,
  resultEnvelopeOf,
  toHandlerData,
  toLlamaHandlerData,
  toRunNowaitResponse,
  WIRE_DIALECTS,
  WIRE_HEADER,
  type WireDialect,
} from "../../protocol/index.js";
import type { Store } from "../../stores/store.js";
import type { ServerContext } from "../server-context.js";
import { errorAnswer, type JsonAnswer, type RecordAnswer } from "./answer.js";
import type { HttpRequest } from "./http-request.js";

/**
 * The pipeline's shaping step (decision 0010): a route answers handler records as data
 * (`RecordAnswer`), and this turns them into the JSON of the request's dialect. Every other answer
 * is the same in both dialects.
 */

/**
 * The dialect a request is answered in: its `X-Workflows-Wire` header, else the server's (`wire`
 * option, `WORKFLOWS_WIRE`).
 * @throws WorkflowError `INVALID_HEADER` (400) for a header that names no dialect.
 */
export function requestWire(ctx: ServerContext, request: HttpRequest): WireDialect {
  const given = request.header(WIRE_HEADER);
  if (given === undefined) return ctx.wire;
  const wire = parseWireDialect(given);
  if (wire !== null) return wire;
  const message = `Expected one of ${WIRE_DIALECTS.join(", ")}`;
  throw new WorkflowError("INVALID_HEADER", `Invalid X-Workflows-Wire "${given}": ${message}`, {
    issues: [{ path: "X-Workflows-Wire", message }],
  });
}

/** The JSON answer of handler records in `wire`, naming its dialect (and that it depends on the header). */
export function shapeAnswer(
  ctx: ServerContext,
  wire: WireDialect,
  answer: RecordAnswer,
): JsonAnswer | Promise<JsonAnswer> {
  // The seed dialect's shapes need no store read: no promise for them.
  if (wire === "seed") {
    try {
      return withWire(seedShape(answer), wire);
    } catch (error) {
      return failedShape(ctx, answer, error);
    }
  }
  return llamaShape(ctx, answer).then(
    (shaped) => withWire(shaped, wire),
    (error: unknown) => failedShape(ctx, answer, error),
  );
}

function withWire(shaped: { status: number; body: unknown }, wire: WireDialect): JsonAnswer {
  return {
    status: shaped.status,
    body: shaped.body,
    headers: { [WIRE_HEADER]: wire, vary: "X-Workflows-Wire" },
  };
}

function failedShape(ctx: ServerContext, answer: RecordAnswer, error: unknown): JsonAnswer {
  if (answer.of !== "run") throw error;
  // A run's 5xx names its handler, which exists (a store read for its stop event failed).
  const failed = errorAnswer(error, ctx.logger);
  if (failed.status >= 500) failed.body = { ...(failed.body as object), handler_id: answer.record.handlerId };
  return failed;
}

function seedShape(answer: RecordAnswer): { status: number; body: unknown } {
  switch (answer.of) {
    case "run":
      return { status: answer.status, body: toHandlerData(answer.record) };
    case "started":
      return { status: 200, body: toRunNowaitResponse(answer.record) };
    case "lookup":
      return { status: 200, body: toHandlerData(answer.record) };
    case "result":
      return { status: answer.record.status === "running" ? 202 : 200, body: toHandlerData(answer.record) };
    case "list":
      return {
        status: 200,
        body: { handlers: answer.records.map(toHandlerData), next_cursor: answer.nextCursor },
      };
  }
}

async function llamaShape(
  ctx: ServerContext,
  answer: RecordAnswer,
): Promise<{ status: number; body: unknown }> {
  switch (answer.of) {
    case "run": {
      const result = answer.stopEvent
        ? envelopeOfEvent(ctx, answer.record, answer.stopEvent)
        : await resultEnvelope(ctx, answer.record);
      return { status: answer.status, body: toLlamaHandlerData(answer.record, result) };
    }
    case "started":
      // The whole record (status `running`), as LlamaIndex's server answers run-nowait.
      return { status: 200, body: toLlamaHandlerData(answer.record, null) };
    case "lookup":
      return {
        status: llamaLookupStatus(answer.record.status),
        body: toLlamaHandlerData(answer.record, await resultEnvelope(ctx, answer.record)),
      };
    case "result":
      // `/results/{id}` keeps the seed's bare result; its status is LlamaIndex's.
      return { status: llamaLookupStatus(answer.record.status), body: toHandlerData(answer.record) };
    case "list": {
      const handlers = [];
      for (const record of answer.records)
        handlers.push(toLlamaHandlerData(record, await resultEnvelope(ctx, record)));
      return { status: 200, body: { handlers, next_cursor: answer.nextCursor } };
    }
  }
}

/** The envelope of the stop event a run ended with, its lineage from the workflow's definitions. */
function envelopeOfEvent(
  ctx: ServerContext,
  record: HandlerInfo,
  event: WorkflowEvent,
): ResultEnvelope | null {
  if (record.status !== "completed") return null;
  const definition = ctx.registry.get(record.workflowName)?.workflow.definitionOf(event.qualifiedName);
  return {
    value: event.data,
    qualified_name: event.qualifiedName,
    type: event.type,
    types: [...(definition?.lineage ?? [Event.name, StopEvent.name, event.qualifiedName])],
  };
}

/**
 * The envelope of the stop event a stored handler completed with. A workflow that ends with one
 * kind of stop event (most do) gives it from its definition and the stored result, without a read;
 * otherwise it is the handler's last stored event (a stream ends with its terminal event).
 */
async function resultEnvelope(ctx: ServerContext, record: HandlerInfo): Promise<ResultEnvelope | null> {
  if (record.status !== "completed") return null;
  const stops = ctx.registry.get(record.workflowName)?.workflow.stopEvents;
  if (stops?.length === 1) return resultEnvelopeOf(stops[0] as (typeof stops)[number], record.result);
  return lastStopEvent((await ctx.runtime()).store, record);
}

async function lastStopEvent(store: Store, record: HandlerInfo): Promise<ResultEnvelope | null> {
  const last = await store.lastSequence(record.handlerId);
  const [event] = last < 0 ? [] : await store.readEvents(record.handlerId, last - 1, 1);
  if (!event?.types.includes(StopEvent.name)) return null;
  return { value: event.value, qualified_name: event.qualifiedName, type: event.type, types: event.types };
}
