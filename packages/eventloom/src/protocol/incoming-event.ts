import { EventValidationError, WorkflowError } from "../core/errors.js";
import type { EventResolver } from "../core/event-resolver.js";
import type { EventDefinition, WorkflowEvent } from "../core/events.js";
import { refuseForbiddenKeys } from "./forbidden-keys.js";

/**
 * Events coming in from clients (the `event` of POST /events, the `start_event` of run), in any of
 * the wire's forms, resolved against a workflow's events and validated against their schemas.
 */

export { type EventResolver, eventResolver } from "../core/event-resolver.js";

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
  // The server checks every body whole; this also covers an event sent as a JSON string, and callers
  // of the protocol module outside the server.
  refuseForbiddenKeys(value, path);
  return value;
}

// LlamaIndex's Python client serializes a dict-like event (`StartEvent(name="John")`) as
// `{"_data": {"name": "John"}}`: an object whose only key is `_data` holds the fields.
const unwrapData = (data: unknown): unknown =>
  isPlainObject(data) && isPlainObject(data["_data"]) && Object.keys(data).length === 1
    ? data["_data"]
    : data;

function validate(definition: EventDefinition, raw: unknown, path: string): WorkflowEvent {
  if (raw !== undefined && raw !== null && !isPlainObject(raw)) throw bodyError(path, "Expected an object");
  const data = unwrapData(raw);
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

/** Said after "Unknown event type" when an event is sent into a run: how such an event gets declared. */
const awaitHint = (name: string) =>
  `: the workflow does not declare it (a step that awaits it with ctx.waitForEvent declares it with waitsFor: [${shortName(name)}])`;

function resolveForm(
  form: EventForm,
  resolve: EventResolver,
  path: string,
  hint: (name: string) => string = () => "",
): EventDefinition {
  for (const { name } of form.names) {
    const definition = resolve(name);
    if (definition) return definition;
  }
  const first = form.names[0];
  if (!first) throw bodyError(path, "Expected an event with a `type` or a `qualified_name`");
  const issue = { path: `${path}.${first.field}`, message: `Unknown event type "${first.name}"` };
  throw new WorkflowError("UNKNOWN_EVENT", `Unknown event type "${first.name}"${hint(first.name)}`, {
    issues: [issue],
  });
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
  const definition = resolveForm(form, resolve, path, awaitHint);
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
  // The start event's own fields (the usual body) are told apart before anything else is made.
  const keys = Object.keys(obj);
  if (keys.length === 0 || !keys.every((k) => ENVELOPE_KEYS.has(k)))
    return validate(startDefinition, obj, path);
  const withStart: EventResolver = (name) =>
    name === startDefinition.name || name === startDefinition.type ? startDefinition : resolve(name);
  const form = readForm(obj);
  const isEventForm =
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

/**
 * Decodes the start of a run request: its `start_event` by {@link decodeStartEvent}, or its `kwargs`
 * (LlamaIndex's form: the start event's fields, used when `start_event` is missing; `{}` is ignored).
 *
 * @throws like {@link decodeStartEvent}; also `INVALID_BODY` when the body has both a `start_event` and
 *   non-empty `kwargs` (LlamaIndex's server ignores the `kwargs` then, with a warning in its log; here
 *   the client learns it at once).
 */
export function decodeRunStart(
  startEvent: unknown,
  kwargs: unknown,
  startDefinition: EventDefinition,
  resolve: EventResolver,
): WorkflowEvent {
  if (!isPlainObject(kwargs) || Object.keys(kwargs).length === 0) {
    return decodeStartEvent(startEvent ?? undefined, startDefinition, resolve);
  }
  if (startEvent !== undefined && startEvent !== null) {
    throw bodyError("kwargs", "Send the start event's fields in start_event or in kwargs, not in both");
  }
  refuseForbiddenKeys(kwargs, "kwargs");
  return validate(startDefinition, kwargs, "kwargs");
}
