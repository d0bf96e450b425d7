import type { WorkflowEvent } from "./events.js";

/** Any JSON value. */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/** The terminal statuses of a run, and `running`. */
export type RunStatus = "running" | "completed" | "failed" | "cancelled";

/** An event waiting for a worker of one step. `attempt` counts from 1. */
export interface QueuedItem {
  id: string;
  step: string;
  event: WorkflowEvent;
  attempt: number;
}

/** An event a step is working on right now; after a crash it goes back to the front of its queue. */
export interface InFlightItem extends QueuedItem {
  startedAt: number;
}

/** A failed attempt waiting for its retry delay to pass. */
export interface RetryItem extends QueuedItem {
  /** Epoch milliseconds when the next attempt may start. */
  at: number;
}

/** A step suspended in `ctx.waitForEvent`: its input item is parked here until an answer arrives. */
export interface Waiter {
  /** `<item id>:<call index>`: the n-th `waitForEvent` call of one step execution. */
  id: string;
  item: QueuedItem;
  /** Qualified name of the awaited event. */
  eventName: string;
  requirements: Record<string, JsonValue>;
  /** Epoch milliseconds after which the wait fails, or null. */
  deadline: number | null;
  answer: WorkflowEvent | null;
  expired: boolean;
}

/** An event a step sent with `{ delay | at }`: a durable timer of the run. */
export interface DelayedEvent {
  /** `<item id>:t<call index>`: the n-th delayed send of one step execution. */
  id: string;
  itemId: string;
  event: WorkflowEvent;
  /** The step it is sent to, or null: every step that accepts it. */
  step: string | null;
  /** Epoch milliseconds when it is delivered. */
  at: number;
  /** Delivered while the step that set it may still run again (kept so that it is not set twice). */
  delivered: boolean;
}

/** A `ctx.runWorkflow` call: the child run it started (the server starts it from here). */
export interface ChildCall {
  /** `<item id>:c<call index>`: the n-th call of one step execution. */
  id: string;
  /** The child's handler id (given, or made from the run id and the call). */
  handlerId: string;
  workflow: string;
  start: WorkflowEvent;
  /** The calling step waits for the child's end (false: `{ wait: false }`). */
  wait: boolean;
  /** The child's end was taken in. */
  ended: boolean;
}

/** How a run ended. */
export interface RunOutcome {
  status: Exclude<RunStatus, "running">;
  /** The run's result: a plain StopEvent's `result`, or a custom stop event's data. */
  result: unknown;
  /** A message when failed (also a timeout), else null. */
  error: string | null;
  /** The event that ended the run. */
  stopEvent: WorkflowEvent;
  /** The step that failed, when one did. */
  failedStep: string | null;
}

/**
 * The whole state of a run as one plain JSON value: what `ctx.toJSON()` returns and what the server
 * persists after every change. Every mutation happens synchronously inside the run engine, so a
 * snapshot taken between two turns of the event loop is always consistent.
 */
export interface RunState {
  version: 1;
  workflowName: string;
  runId: string;
  status: RunStatus;
  /** Epoch milliseconds. */
  startedAt: number;
  /** Epoch milliseconds when the run times out, or null. */
  deadline: number | null;
  /** The sequence the next published event gets. */
  nextSequence: number;
  /** Counter for ids of queued items, unique within the run. */
  nextItemId: number;
  queues: Record<string, QueuedItem[]>;
  inFlight: Record<string, InFlightItem>;
  retries: Record<string, RetryItem>;
  /**
   * `ctx.collectEvents` buffers, by step name. `itemId` keeps a re-run step from adding its event
   * twice; `consumedBy` marks events handed to a step that has not finished yet (they are removed
   * when it finishes, so a re-run after a crash gets the same events again).
   */
  collected: Record<string, { itemId: string; event: WorkflowEvent; consumedBy: string | null }[]>;
  waiters: Record<string, Waiter>;
  /** Durable timers: events sent with `{ delay | at }`, by id. Missing in states stored before them. */
  delayed?: Record<string, DelayedEvent>;
  /** Child runs started with `ctx.runWorkflow`, by call id. Missing in states stored before them. */
  children?: Record<string, ChildCall>;
  /** Outside events no step and no waiter took yet; a later `waitForEvent` may claim them. */
  unclaimed: WorkflowEvent[];
  /**
   * A run queued behind its run limit: its start event, delivered (and its deadline set) when the run
   * begins. Missing otherwise.
   */
  pendingStart?: WorkflowEvent;
  /** The user's state (`ctx.store`). */
  store: Record<string, JsonValue>;
  /** True once a WorkflowIdleEvent was published and no work has started since. */
  idle: boolean;
  outcome: RunOutcome | null;
  /**
   * W3C trace context of the run's `workflow.run` span, written by a server that traces: steps that run
   * after a restart, an idle release or a takeover join that trace. Missing when nothing traced the run.
   */
  trace?: RunTraceContext;
}

/** A run's trace context as W3C headers carry it. */
export interface RunTraceContext {
  traceparent: string;
  tracestate?: string;
}

/**
 * An event as published to a run's stream and stored in its event log: the wire envelope in
 * camelCase. `sequence` counts from 0 per handler, without gaps.
 */
export interface PublishedEvent {
  sequence: number;
  type: string;
  qualifiedName: string;
  /** Lineage, from `workflows.events.Event` down to the event itself. */
  types: string[];
  value: Record<string, unknown>;
  /** Step-state and idle events: streamed only to readers that ask for internal events. */
  internal: boolean;
  /** ISO 8601 UTC with milliseconds. */
  timestamp: string;
}
