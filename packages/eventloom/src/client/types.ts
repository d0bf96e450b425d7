import type { EventOf, InputOf, WorkflowEvent } from "../core/events.js";
import type { RunStatus } from "../core/run-state.js";
import type { AnyWorkflow, StartEventOf } from "../core/workflow.js";
import type { CallOptions } from "./transport.js";

/** The workflows a server registers, by name: `{ greet: greeting }`. */
export type WorkflowMap = Record<string, AnyWorkflow>;

/** The default: no workflow is known by type, so every name takes any start event. */
export type UntypedWorkflows = Record<never, AnyWorkflow>;

/**
 * An event in one of the wire's forms, for callers that do not have the event's definition at hand:
 * `{ type, value }`, `{ type, data }`, `{ __is_pydantic, value, qualified_name }`, or a JSON string.
 */
export type RawEvent =
  | { type: string; value?: Record<string, unknown>; qualified_name?: string }
  | { type: string; data?: Record<string, unknown> }
  | { __is_pydantic?: boolean; value?: Record<string, unknown>; qualified_name: string }
  | string;

/** Any start event: an event, a raw form, or a bare object of the start event's fields. */
export type AnyStartEvent = WorkflowEvent | RawEvent | Record<string, unknown>;

type IsAny<T> = 0 extends 1 & T ? true : false;

/**
 * What `startEvent` takes for a workflow: its start event, made by `create`, or the event's fields as
 * `create` takes them (the schema's input: fields with a default or `.optional()` may be left out).
 */
export type StartEventInput<Wf> =
  IsAny<Wf> extends true
    ? AnyStartEvent
    : [StartEventOf<Wf>] extends [never]
      ? AnyStartEvent
      : EventOf<StartEventOf<Wf>> | InputOf<StartEventOf<Wf>>;

/** The start event input for a workflow name: checked for the names of `W`, loose for any other. */
export type StartEventFor<W, N extends string> = N extends keyof W ? StartEventInput<W[N]> : AnyStartEvent;

/** Workflow names: those of `W` (offered by completion) or any other string. */
export type WorkflowName<W> = (keyof W & string) | (string & Record<never, never>);

/** Options of the calls that change something: run, run-nowait, sendEvent, cancel. */
export interface MutationOptions extends CallOptions {
  /**
   * The call's `Idempotency-Key` (1–200 visible ASCII characters). Default: a new random key per
   * call, reused by the client's own retries. Give your own to retry the same call after a restart
   * of your program: the server executes it once and answers every copy alike.
   */
  idempotencyKey?: string;
}

/** Options of `runWorkflow` and `runWorkflowNowait`. */
export interface RunWorkflowOptions<S = AnyStartEvent> extends MutationOptions {
  /** The start event; missing = the workflow's start event with no fields. */
  startEvent?: S;
  /** A serialized Context (`ctx.toJSON()`) to start from. */
  context?: Record<string, unknown> | null;
  /** An ended handler's id continues it; a new id names the new handler; missing = a generated id. */
  handlerId?: string;
}

/** Filters of `getHandlers` and `getHandlersPage`. */
export interface HandlerQuery extends CallOptions {
  /** Any of these statuses. */
  status?: RunStatus | readonly RunStatus[];
  /** Any of these workflows. */
  workflowName?: string | readonly string[];
  /** Page size, 1..1000 (server default 100). */
  limit?: number;
  /** true: only blocked handlers (running, but the server's code cannot go on with them); false: the others. */
  blocked?: boolean;
  /** true: only running handlers that wait for input, each with `waitingFor` (pages may be short). */
  waiting?: boolean;
  /** Only the children of this handler (runs its steps started with `ctx.runWorkflow`). */
  parentHandlerId?: string;
}

export interface HandlerPageQuery extends HandlerQuery {
  /** The `nextCursor` of the previous page. */
  cursor?: string | null;
}

export interface SendEventOptions extends MutationOptions {
  /** Deliver the event only to this step. */
  step?: string;
}

export interface CancelOptions extends MutationOptions {
  /** Also delete the handler and everything stored for it. Default false. */
  purge?: boolean;
}

export interface WorkflowClientOptions {
  /** The server's URL, e.g. `http://127.0.0.1:8080` (a path prefix is kept). */
  baseUrl: string;
  /** Sent as `Authorization: Bearer <token>`. */
  token?: string;
  /**
   * The fetch to use; default the global one. To talk to a server in the same process without a
   * socket: `fetch: (url, init) => server.fetch(new Request(url, init))`.
   */
  fetch?: typeof globalThis.fetch;
  /** Headers sent with every request. */
  headers?: Record<string, string>;
  /** Milliseconds a request may take (for event streams: until the server starts answering). Default none. */
  timeoutMs?: number;
  /**
   * Whether run, run-nowait, sendEvent and cancel carry an `Idempotency-Key` (a new one per call
   * unless the call gives its own), so that the server executes each once however often it is
   * sent. Default true.
   */
  idempotencyKeys?: boolean;
  /**
   * How many times a call that changes something is sent again, with the same key, after a failure
   * a retry can fix: the server unreachable or the connection lost before the answer, 502, 503
   * (after its `Retry-After`), 504, 409 `IDEMPOTENCY_KEY_IN_USE`. Waits 250 ms, then twice as
   * long each time, at most 10 s. Default 3; without idempotency keys, 0.
   */
  retries?: number;
}
