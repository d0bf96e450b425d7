// Records, events and states the store contract writes, and fast-check arbitraries of JSON.
import fc from "fast-check";
import type { JsonValue, PublishedEvent, RunState } from "../../core/index.js";
import type { HandlerRecord, InboxItem, Store } from "../../stores/store.js";

/** Opens a fresh, initialised store; `cleanup` closes it (if still open) and removes what it left. */
export type OpenStore = () => Promise<{ store: Store; cleanup(): Promise<void> }>;

export const T0 = Date.parse("2024-10-21T14:32:15.123Z");
export const iso = (offsetMs: number): string => new Date(T0 + offsetMs).toISOString();

export function handlerRecord(handlerId: string, fields: Partial<HandlerRecord> = {}): HandlerRecord {
  return {
    handlerId,
    workflowName: "greet",
    runId: `run-${handlerId}`,
    status: "running",
    result: null,
    error: null,
    startedAt: iso(0),
    updatedAt: iso(0),
    completedAt: null,
    resumeAttempts: 0,
    workflowVersion: null,
    blocked: null,
    wakeAt: null,
    parentHandlerId: null,
    scheduleId: null,
    limitKey: null,
    queued: false,
    ...fields,
  };
}

export function publishedEvent(sequence: number, value: Record<string, unknown> = {}): PublishedEvent {
  return {
    sequence,
    type: "StreamEvent",
    qualifiedName: "StreamEvent",
    types: ["workflows.events.Event", "StreamEvent"],
    value: { sequence, ...value },
    internal: false,
    timestamp: iso(sequence),
  };
}

export function runState(store: Record<string, JsonValue> = {}): RunState {
  return {
    version: 1,
    workflowName: "greet",
    runId: "run-1",
    status: "running",
    startedAt: T0,
    deadline: null,
    nextSequence: 0,
    nextItemId: 1,
    queues: { greet: [{ id: "0", step: "greet", event: startEvent(), attempt: 1 }] },
    inFlight: {},
    retries: {},
    collected: {},
    waiters: {},
    unclaimed: [],
    store,
    idle: false,
    outcome: null,
  };
}

export function inboxItem(id: string, data: Record<string, unknown> = {}): InboxItem {
  return {
    id,
    event: { type: "ResponseEvent", qualifiedName: "ResponseEvent", data: { response: id, ...data } },
    step: null,
    receivedAt: iso(1000),
  };
}

function startEvent() {
  return { type: "StartEvent", qualifiedName: "workflows.events.StartEvent", data: { name: "Ada" } };
}

/** JSON has no -0: `JSON.stringify(-0)` is "0". Everything else fast-check generates must round trip. */
function withoutNegativeZero(value: JsonValue): JsonValue {
  if (typeof value === "number") return Object.is(value, -0) ? 0 : value;
  if (Array.isArray(value)) return value.map(withoutNegativeZero);
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, withoutNegativeZero(v)]));
  }
  return value;
}

export const jsonValue = fc
  .jsonValue({ noUnicodeString: false })
  .map((v) => withoutNegativeZero(v as JsonValue));
export const dangerousObject = fc
  .dictionary(
    fc.constantFrom("__proto__", "constructor", "prototype", "toString", "hasOwnProperty", ""),
    jsonValue,
    {
      maxKeys: 4,
    },
  )
  .map(withoutNegativeZero);
