import { EventValidationError, type ValidationIssue, WorkflowError } from "../core/errors.js";
import type { EventDefinition, WorkflowEvent } from "../core/events.js";
import type { PublishedEvent, RunStatus } from "../core/run-state.js";
import type {
  Envelope,
  GraphNode,
  HandlerData,
  HandlerList,
  Representation,
  RunNowaitResponse,
} from "./wire.js";

/**
 * The one place that maps the TypeScript side (camelCase) to the wire (snake_case) and back.
 */

/** The store's `HandlerRecord`, structurally (protocol does not depend on stores). */
export interface HandlerRecordLike {
  handlerId: string;
  workflowName: string;
  runId: string;
  status: RunStatus;
  result: unknown;
  error: string | null;
  startedAt: string;
  updatedAt: string;
  completedAt: string | null;
}

/** A handler as the client returns it: `HandlerData` in camelCase. */
export type HandlerInfo = HandlerRecordLike;

/** An event envelope in camelCase, as the client yields it. */
export interface EventEnvelope {
  type: string;
  value: Record<string, unknown>;
  types: string[];
  sequence: number;
  /** Missing when the stream was asked for with `includeQualifiedName: false`. */
  qualifiedName?: string;
}

/** What run-nowait answers, in camelCase. */
export interface StartedHandler {
  handlerId: string;
  status: "started";
  workflowName: string;
  runId: string;
  startedAt: string;
}

/** A store's handler record → the wire's `HandlerData`. */
export function toHandlerData(record: HandlerRecordLike): HandlerData {
  return {
    handler_id: record.handlerId,
    workflow_name: record.workflowName,
    run_id: record.runId,
    status: record.status,
    result: record.result ?? null,
    error: record.error,
    started_at: record.startedAt,
    updated_at: record.updatedAt,
    completed_at: record.completedAt,
  };
}

/** The wire's `HandlerData` → camelCase. */
export function fromHandlerData(data: HandlerData): HandlerInfo {
  return {
    handlerId: data.handler_id,
    workflowName: data.workflow_name,
    runId: data.run_id,
    status: data.status,
    result: data.result ?? null,
    error: data.error,
    startedAt: data.started_at,
    updatedAt: data.updated_at,
    completedAt: data.completed_at,
  };
}

/** A handler record → run-nowait's answer. */
export function toRunNowaitResponse(record: HandlerRecordLike): RunNowaitResponse {
  return {
    handler_id: record.handlerId,
    status: "started",
    workflow_name: record.workflowName,
    run_id: record.runId,
    started_at: record.startedAt,
  };
}

/** Run-nowait's answer → camelCase. */
export function fromRunNowaitResponse(data: RunNowaitResponse): StartedHandler {
  return {
    handlerId: data.handler_id,
    status: data.status,
    workflowName: data.workflow_name,
    runId: data.run_id,
    startedAt: data.started_at,
  };
}

export interface ToEnvelopeOptions {
  /** Default true; with false the envelope has no `qualified_name`. */
  includeQualifiedName?: boolean;
}

/** A published event → the wire envelope. */
export function toEnvelope(published: PublishedEvent, options: ToEnvelopeOptions = {}): Envelope {
  const envelope: Envelope = {
    value: published.value,
    type: published.type,
    types: [...published.types],
    sequence: published.sequence,
  };
  if (options.includeQualifiedName ?? true) envelope.qualified_name = published.qualifiedName;
  return envelope;
}

/** A wire envelope → camelCase. */
export function fromEnvelope(envelope: Envelope): EventEnvelope {
  const out: EventEnvelope = {
    type: envelope.type,
    value: envelope.value,
    types: envelope.types,
    sequence: envelope.sequence,
  };
  if (envelope.qualified_name !== undefined) out.qualifiedName = envelope.qualified_name;
  return out;
}

/** True when the envelope ends its stream: `workflows.events.StopEvent` is in its lineage. */
export const isTerminalEnvelope = (envelope: { types: readonly string[] }): boolean =>
  envelope.types.includes("workflows.events.StopEvent");

/**
 * An event made by `defineEvent(...).create` → the wire form the server accepts, carrying both the
 * short `type` and the `qualified_name` so that the server resolves it exactly.
 */
export function toIncomingEvent(event: WorkflowEvent): {
  type: string;
  qualified_name: string;
  value: unknown;
} {
  return { type: event.type, qualified_name: event.qualifiedName, value: event.data };
}

// ---------------------------------------------------------------------------------------------
// Incoming events

/** Finds an event definition by qualified name or by short type. */
export type EventResolver = (name: string) => EventDefinition | undefined;

/**
 * A resolver over a workflow's events: matches a qualified name whole, else a short type when exactly
 * one of the definitions has it (an ambiguous short type resolves to nothing).
 */
export function eventResolver(definitions: Iterable<EventDefinition>): EventResolver {
  const byName = new Map<string, EventDefinition>();
  const byType = new Map<string, EventDefinition | null>();
  for (const d of definitions) {
    byName.set(d.name, d);
    const seen = byType.get(d.type);
    byType.set(d.type, seen === undefined || seen === d ? d : null);
  }
  return (name) => byName.get(name) ?? byType.get(name) ?? undefined;
}

const ENVELOPE_KEYS = new Set([
  "type",
  "value",
  "data",
  "qualified_name",
  "__is_pydantic",
  "types",
  "sequence",
]);

const shortName = (name: string): string => name.slice(name.lastIndexOf(".") + 1);

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

const bodyError = (path: string, message: string) =>
  new WorkflowError("INVALID_BODY", `Invalid ${path}: ${message}`, { issues: [{ path, message }] });

// JSON.parse makes `__proto__` an own key, harmless until someone copies it into a plain object by
// assignment; an incoming value is rejected when one appears at any depth.
function findForbiddenKey(value: unknown, path: string, depth = 0): ValidationIssue | null {
  if (depth > 64) return { path, message: "Nested too deeply" };
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const found = findForbiddenKey(value[i], `${path}.${i}`, depth + 1);
      if (found) return found;
    }
  } else if (isPlainObject(value)) {
    for (const key of Object.keys(value)) {
      if (key === "__proto__") return { path: `${path}.${key}`, message: "Forbidden key __proto__" };
      const found = findForbiddenKey(value[key], `${path}.${key}`, depth + 1);
      if (found) return found;
    }
  }
  return null;
}

function parseObject(raw: unknown, path: string): Record<string, unknown> {
  let value = raw;
  if (typeof raw === "string") {
    try {
      value = JSON.parse(raw);
    } catch {
      throw bodyError(path, "Not valid JSON");
    }
  }
  if (!isPlainObject(value)) throw bodyError(path, "Expected an object");
  const forbidden = findForbiddenKey(value, path);
  if (forbidden) throw new WorkflowError("INVALID_BODY", forbidden.message, { issues: [forbidden] });
  return value;
}

function validate(definition: EventDefinition, data: unknown, path: string): WorkflowEvent {
  if (data !== undefined && data !== null && !isPlainObject(data))
    throw bodyError(path, "Expected an object");
  const parsed = definition.schema.safeParse(data ?? {});
  if (!parsed.success) throw new EventValidationError(definition.type, parsed.error.issues, path);
  return { type: definition.type, qualifiedName: definition.name, data: parsed.data };
}

interface EventForm {
  /** Names to try, most precise first, with the field each came from. */
  names: { name: string; field: string }[];
  value: unknown;
  valueField: string;
}

function readForm(obj: Record<string, unknown>): EventForm {
  const names: EventForm["names"] = [];
  const qualified = obj["qualified_name"];
  const type = obj["type"];
  if (typeof qualified === "string") names.push({ name: qualified, field: "qualified_name" });
  if (typeof type === "string") names.push({ name: type, field: "type" });
  if (typeof qualified === "string" && shortName(qualified) !== qualified) {
    names.push({ name: shortName(qualified), field: "qualified_name" });
  }
  const valueField = obj["value"] === undefined && obj["data"] !== undefined ? "data" : "value";
  return { names, value: obj[valueField], valueField };
}

function resolveForm(form: EventForm, resolve: EventResolver, path: string): EventDefinition {
  for (const { name } of form.names) {
    const definition = resolve(name);
    if (definition) return definition;
  }
  const first = form.names[0];
  if (!first) throw bodyError(path, "Expected an event with a `type` or a `qualified_name`");
  const issue = { path: `${path}.${first.field}`, message: `Unknown event type "${first.name}"` };
  throw new WorkflowError("UNKNOWN_EVENT", `Unknown event type "${first.name}"`, { issues: [issue] });
}

/**
 * Decodes an event sent into a run (the `event` of POST /events): an object or a JSON string of one,
 * in the forms `{type,value}`, `{type,data}` or `{__is_pydantic,value,qualified_name}`. The definition
 * is found by `qualified_name` (whole), then `type`, then the part of `qualified_name` after the last
 * dot; the value is validated against its schema.
 *
 * @param path where the event sits in the request, for issues (`"event"`).
 * @throws WorkflowError `UNKNOWN_EVENT` when no definition matches, `INVALID_BODY` when the shape is
 *   wrong, and {@link EventValidationError} (`VALIDATION_ERROR`) when the value does not fit the schema;
 *   each with `issues` located under `path`.
 */
export function decodeIncomingEvent(raw: unknown, resolve: EventResolver, path: string): WorkflowEvent {
  const obj = parseObject(raw, path);
  const form = readForm(obj);
  const definition = resolveForm(form, resolve, path);
  return validate(definition, form.value, `${path}.${form.valueField}`);
}

/**
 * Decodes the `start_event` of a run request. Besides the forms of {@link decodeIncomingEvent}, a bare
 * object of fields means the workflow's start event, and a missing one means the start event with no
 * fields. An object is read as an event form when all its keys are envelope keys (`type`, `value`,
 * `data`, `qualified_name`, `__is_pydantic`, `types`, `sequence`), it names a type, and it carries a
 * value or its name resolves; otherwise it is the start event's fields.
 *
 * @throws like {@link decodeIncomingEvent}; also `INVALID_BODY` when the event is not the start event.
 */
export function decodeStartEvent(
  raw: unknown,
  startDefinition: EventDefinition,
  resolve: EventResolver,
  path = "start_event",
): WorkflowEvent {
  if (raw === undefined || raw === null) return validate(startDefinition, {}, path);
  const obj = parseObject(raw, path);
  const withStart: EventResolver = (name) =>
    name === startDefinition.name || name === startDefinition.type ? startDefinition : resolve(name);
  const form = readForm(obj);
  const keys = Object.keys(obj);
  const isEventForm =
    keys.length > 0 &&
    keys.every((k) => ENVELOPE_KEYS.has(k)) &&
    form.names.length > 0 &&
    ("value" in obj || "data" in obj || "__is_pydantic" in obj || form.names.some((n) => withStart(n.name)));
  if (!isEventForm) return validate(startDefinition, obj, path);
  const definition = resolveForm(form, withStart, path);
  if (definition.name !== startDefinition.name) {
    throw bodyError(
      path,
      `Expected the workflow's start event ${startDefinition.type}, got ${definition.type}`,
    );
  }
  return validate(definition, form.value, `${path}.${form.valueField}`);
}

// ---------------------------------------------------------------------------------------------
// The workflow graph

/** A node of the workflow graph, in camelCase. */
export type WorkflowGraphNode =
  | { id: string; label: string; nodeType: "step" }
  | {
      id: string;
      label: string;
      nodeType: "event";
      eventType: string;
      eventTypes: string[];
      eventSchema: Record<string, unknown>;
    }
  | { id: string; label: string; nodeType: "external" };

/** The graph of `GET /workflows/{name}/representation`, in camelCase. */
export interface WorkflowGraph {
  name: string;
  nodes: WorkflowGraphNode[];
  edges: { source: string; target: string }[];
}

/** A graph → the wire's `Representation`. */
export function toRepresentation(graph: WorkflowGraph): Representation {
  return {
    graph: {
      name: graph.name,
      nodes: graph.nodes.map((n): GraphNode => {
        if (n.nodeType !== "event") return { id: n.id, label: n.label, node_type: n.nodeType };
        return {
          id: n.id,
          label: n.label,
          node_type: "event",
          event_type: n.eventType,
          event_types: [...n.eventTypes],
          event_schema: n.eventSchema,
        };
      }),
      edges: graph.edges.map((e) => ({ source: e.source, target: e.target })),
    },
  };
}

/** The wire's `Representation` → camelCase. */
export function fromRepresentation(representation: Representation): WorkflowGraph {
  const { graph } = representation;
  return {
    name: graph.name,
    nodes: graph.nodes.map((n): WorkflowGraphNode => {
      if (n.node_type !== "event") return { id: n.id, label: n.label, nodeType: n.node_type };
      return {
        id: n.id,
        label: n.label,
        nodeType: "event",
        eventType: n.event_type,
        eventTypes: n.event_types,
        eventSchema: n.event_schema,
      };
    }),
    edges: graph.edges.map((e) => ({ source: e.source, target: e.target })),
  };
}

/** One page of handlers, in camelCase. */
export interface HandlerPageInfo {
  handlers: HandlerInfo[];
  nextCursor: string | null;
}

/** Handler records → the wire's `HandlerList`. */
export const toHandlerList = (page: {
  handlers: HandlerRecordLike[];
  nextCursor: string | null;
}): HandlerList => ({
  handlers: page.handlers.map(toHandlerData),
  next_cursor: page.nextCursor,
});

/** The wire's `HandlerList` → camelCase. */
export const fromHandlerList = (list: HandlerList): HandlerPageInfo => ({
  handlers: list.handlers.map(fromHandlerData),
  nextCursor: list.next_cursor,
});
