import type { WorkflowEvent } from "../core/events.js";
import type { PublishedEvent, RunStatus } from "../core/run-state.js";
import type {
  Envelope,
  GraphNode,
  HandlerData,
  HandlerList,
  Representation,
  RunNowaitResponse,
  ScheduleData,
} from "./wire.js";
import { type BLOCKED_CODES, STOP_EVENT_NAME } from "./wire-values.js";

/**
 * Why a stored, running handler cannot go on with the code now loaded (`blocked` of its record):
 * `WORKFLOW_CHANGED` (a step, the workflow or an event it needs is gone) or `SCHEMA_CHANGED` (its
 * stored events or state no longer fit their schemas); `detail` names the step, event or field.
 */
export interface BlockedInfo {
  code: (typeof BLOCKED_CODES)[number];
  detail: string;
  /** When it was found blocked (ISO 8601 UTC). */
  since: string;
}

/**
 * The one place that maps the TypeScript side (camelCase) to the wire (snake_case) and back.
 */

/**
 * A handler, in camelCase: the one shape of the handler record on the TypeScript side. The store
 * keeps it (`HandlerRecord` is this type), the client returns it, the debugger shows it; on the wire
 * it is `HandlerData` (snake_case), mapped here and nowhere else.
 */
export interface HandlerInfo {
  handlerId: string;
  workflowName: string;
  runId: string;
  status: RunStatus;
  result: unknown;
  error: string | null;
  startedAt: string;
  updatedAt: string;
  completedAt: string | null;
  /** The `version` of the workflow the run started on; null when it declared none. */
  workflowVersion?: string | null;
  /** Set while the run cannot go on with the code now loaded; null (or missing) otherwise. */
  blocked?: BlockedInfo | null;
  /** True in a listing whose `result` was left out for its size (read the handler for it). */
  resultTruncated?: boolean;
  /** True in a listing whose `error` was cut to its first characters for its size (read the handler for it). */
  errorTruncated?: boolean;
  /** The handler whose step started this run with `ctx.runWorkflow`; null (or missing) otherwise. */
  parentHandlerId?: string | null;
  /** The schedule whose fire time started this run; null (or missing) otherwise. */
  scheduleId?: string | null;
  /** True while the run waits for its workflow's concurrency limit (it runs nothing yet). */
  queued?: boolean;
  /** GET /handlers/{handler_id} of a queued run only: its place in its queue, 1 for the next one to start. */
  queuePosition?: number;
  /**
   * GET /handlers/{handler_id} only: the event the handler's latest run started with; null when the
   * store kept none (a run started before it kept them, or not started by a request).
   */
  startEvent?: StartEventInfo | null;
  /** `GET /handlers?waiting=true` only: the input-required event the run waits on. */
  waitingFor?: WaitingForInfo;
}

/** The question a waiting run asks: its input-required event. */
export interface WaitingForInfo extends StartEventInfo {
  sequence: number;
}

/** A run's start event as its handler record carries it. */
export interface StartEventInfo {
  type: string;
  qualifiedName: string;
  value: Record<string, unknown>;
}

/** An event envelope in camelCase, as the client yields it. */
export interface EventEnvelope {
  type: string;
  value: Record<string, unknown>;
  types: string[];
  sequence: number;
  /** Missing when the stream was asked for with `includeQualifiedName: false`. */
  qualifiedName?: string;
  /** When the server published the event (ISO 8601 UTC). */
  timestamp?: string;
}

/** What run-nowait answers, in camelCase. */
export interface StartedHandler {
  handlerId: string;
  status: "started";
  workflowName: string;
  runId: string;
  startedAt: string;
}

/** A schedule in camelCase, as the client returns it (the wire's `ScheduleData`). */
export interface ScheduleInfo {
  scheduleId: string;
  workflowName: string;
  cron: string;
  timezone: string;
  /** ISO 8601 UTC; null when it never fires again. */
  nextFireAt: string | null;
  /** The last fire time that started a run, and that run's handler; null before the first. */
  lastFireAt: string | null;
  lastHandlerId: string | null;
}

/** The wire's `ScheduleData` → camelCase. */
export function fromScheduleData(data: ScheduleData): ScheduleInfo {
  return {
    scheduleId: data.schedule_id,
    workflowName: data.workflow_name,
    cron: data.cron,
    timezone: data.timezone,
    nextFireAt: data.next_fire_at,
    lastFireAt: data.last_fire_at,
    lastHandlerId: data.last_handler_id,
  };
}

/** A store's handler record → the wire's `HandlerData`. */
export function toHandlerData(record: HandlerInfo): HandlerData {
  const data: HandlerData = {
    handler_id: record.handlerId,
    workflow_name: record.workflowName,
    run_id: record.runId,
    status: record.status,
    result: record.result ?? null,
    error: record.error,
    started_at: record.startedAt,
    updated_at: record.updatedAt,
    completed_at: record.completedAt,
    workflow_version: record.workflowVersion ?? null,
    blocked: record.blocked ? { ...record.blocked } : null,
  };
  if (record.resultTruncated) data.result_truncated = true;
  if (record.errorTruncated) data.error_truncated = true;
  if (record.waitingFor) {
    const w = record.waitingFor;
    data.waiting_for = {
      sequence: w.sequence,
      type: w.type,
      qualified_name: w.qualifiedName,
      value: w.value,
    };
  }
  if (record.startEvent !== undefined) {
    const e = record.startEvent;
    data.start_event = e && { type: e.type, qualified_name: e.qualifiedName, value: e.value };
  }
  // Only when set: records of runs without a parent, a schedule or a queue keep their shape.
  if (record.parentHandlerId) data.parent_handler_id = record.parentHandlerId;
  if (record.scheduleId) data.schedule_id = record.scheduleId;
  if (record.queued) data.queued = true;
  if (record.queuePosition) data.queue_position = record.queuePosition;
  return data;
}

/** The wire's `HandlerData` → camelCase. */
export function fromHandlerData(data: HandlerData): HandlerInfo {
  const info: HandlerInfo = {
    handlerId: data.handler_id,
    workflowName: data.workflow_name,
    runId: data.run_id,
    status: data.status,
    result: data.result ?? null,
    error: data.error,
    startedAt: data.started_at,
    updatedAt: data.updated_at,
    completedAt: data.completed_at,
    workflowVersion: data.workflow_version ?? null,
    blocked: data.blocked ? { ...data.blocked } : null,
  };
  if (data.result_truncated) info.resultTruncated = true;
  if (data.error_truncated) info.errorTruncated = true;
  if (data.waiting_for) {
    const w = data.waiting_for;
    info.waitingFor = { sequence: w.sequence, type: w.type, qualifiedName: w.qualified_name, value: w.value };
  }
  if (data.start_event !== undefined) {
    const e = data.start_event;
    info.startEvent = e && { type: e.type, qualifiedName: e.qualified_name, value: e.value };
  }
  if (data.parent_handler_id) info.parentHandlerId = data.parent_handler_id;
  if (data.schedule_id) info.scheduleId = data.schedule_id;
  if (data.queued) info.queued = true;
  if (data.queue_position) info.queuePosition = data.queue_position;
  return info;
}

/** A handler record → run-nowait's answer. */
export function toRunNowaitResponse(record: HandlerInfo): RunNowaitResponse {
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
    timestamp: published.timestamp,
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
  if (envelope.timestamp !== undefined) out.timestamp = envelope.timestamp;
  return out;
}

/** True when the envelope ends its stream: `workflows.events.StopEvent` is in its lineage. */
export const isTerminalEnvelope = (envelope: { types: readonly string[] }): boolean =>
  envelope.types.includes(STOP_EVENT_NAME);

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
export const toHandlerList = (page: { handlers: HandlerInfo[]; nextCursor: string | null }): HandlerList => ({
  handlers: page.handlers.map(toHandlerData),
  next_cursor: page.nextCursor,
});

/** The wire's `HandlerList` → camelCase. */
export const fromHandlerList = (list: HandlerList): HandlerPageInfo => ({
  handlers: list.handlers.map(fromHandlerData),
  nextCursor: list.next_cursor,
});
