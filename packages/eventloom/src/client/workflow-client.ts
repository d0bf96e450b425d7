import type { WorkflowEvent } from "../core/events.js";
// protocol's modules one by one, not its index: the index brings zod, too big for a browser client
import {
  CancelResponseShape,
  HandlerDataShape,
  HandlerListShape,
  HealthShape,
  RepresentationShape,
  RunNowaitResponseShape,
  ScheduleListShape,
  SendEventResponseShape,
  WorkflowEventsResponseShape,
  WorkflowListShape,
  WorkflowSchemaResponseShape,
} from "../protocol/answer-shapes.js";
import {
  type EventEnvelope,
  fromHandlerData,
  fromHandlerList,
  fromRepresentation,
  fromRunNowaitResponse,
  fromScheduleData,
  type HandlerInfo,
  type HandlerPageInfo,
  type ScheduleInfo,
  type StartedHandler,
  toIncomingEvent,
  type WorkflowGraph,
} from "../protocol/codec.js";
import { routePath } from "../protocol/routes.js";
import { checkShape } from "../protocol/shape.js";
import type { WorkflowEventsResponse, WorkflowSchemaResponse } from "../protocol/wire.js";
import { WorkflowClientError, withIdempotencyKey } from "./errors.js";
import {
  type EventStreamOptions,
  type FollowRunOptions,
  type RunStreamItem,
  streamEvents,
  streamItems,
} from "./event-stream.js";
import { newIdempotencyKey, type RetryPolicy, withRetries } from "./retry.js";
import {
  type CallOptions,
  decodeAnswer,
  errorFromAnswer,
  type JsonAnswer,
  type QueryValue,
  Transport,
} from "./transport.js";
import type {
  AnyStartEvent,
  CancelOptions,
  HandlerPageQuery,
  HandlerQuery,
  MutationOptions,
  RawEvent,
  RunWorkflowOptions,
  SendEventOptions,
  StartEventFor,
  UntypedWorkflows,
  WorkflowClientOptions,
  WorkflowMap,
  WorkflowName,
} from "./types.js";

export type { WorkflowClientOptions } from "./types.js";

const isWorkflowEvent = (v: unknown): v is WorkflowEvent =>
  typeof v === "object" &&
  v !== null &&
  typeof (v as WorkflowEvent).qualifiedName === "string" &&
  typeof (v as WorkflowEvent).type === "string" &&
  "data" in v;

// An event made by `create` goes as {type, qualified_name, value}; anything else as given.
const toWireEvent = (event: unknown): unknown => (isWorkflowEvent(event) ? toIncomingEvent(event) : event);

/**
 * Talks to a `WorkflowServer` over HTTP, with `fetch` only (Node and browsers). Answers are camelCase;
 * server errors throw {@link WorkflowClientError}, unreachable servers `WorkflowNetworkError`, slow
 * ones `ClientTimeoutError`, and an aborted `signal` rejects with the signal's reason.
 *
 * Pass the server's workflows as a type to check start events:
 * `new WorkflowClient<typeof workflows>({ baseUrl })` with `import type { workflows } from "./server.js"`.
 *
 * @example
 * const client = new WorkflowClient({ baseUrl: "http://127.0.0.1:8080" });
 * const { handlerId } = await client.runWorkflowNowait("greet", { startEvent: StartEvent.create({ name: "Ada" }) });
 * for await (const event of client.getWorkflowEvents(handlerId)) console.log(event.type, event.value);
 * const { result, status } = await client.getResult(handlerId);
 */
export class WorkflowClient<W extends WorkflowMap = UntypedWorkflows> {
  readonly #http: Transport;
  readonly #keys: boolean;
  readonly #retry: RetryPolicy;

  constructor(options: WorkflowClientOptions) {
    this.#http = new Transport(options);
    this.#keys = options.idempotencyKeys ?? true;
    const retries = options.retries ?? (this.#keys ? 3 : 0);
    if (!(Number.isInteger(retries) && retries >= 0))
      throw new TypeError("retries must be a whole number >= 0");
    this.#retry = { retries, baseDelayMs: 250, maxDelayMs: 10_000 };
  }

  /**
   * Resolves true when the server answers `{"status":"healthy"}`.
   * @throws WorkflowClientError (status 503, code "UNHEALTHY") while it starts or shuts down.
   */
  async isHealthy(options: CallOptions = {}): Promise<true> {
    const answer = await this.#http.json(routePath("getHealth"), { method: "GET", ...options });
    if (answer.status === 200 || answer.status === 503) {
      const health = decodeAnswer(HealthShape, answer);
      if (health.status === "healthy" && answer.status === 200) return true;
      throw new WorkflowClientError({
        status: answer.status,
        code: "UNHEALTHY",
        detail: "The server is unhealthy",
      });
    }
    throw errorFromAnswer(answer.status, answer.body);
  }

  /** The registered workflows' names, in registration order. */
  async listWorkflows(options: CallOptions = {}): Promise<string[]> {
    return decodeAnswer(WorkflowListShape, await this.#ok(routePath("listWorkflows"), options)).workflows;
  }

  /** The server's schedules: each one's next fire time and the last run it started. */
  async listSchedules(options: CallOptions = {}): Promise<ScheduleInfo[]> {
    const answer = decodeAnswer(ScheduleListShape, await this.#ok(routePath("listSchedules"), options));
    return answer.schedules.map(fromScheduleData);
  }

  /**
   * Runs a workflow and waits for its end. Resolves with the handler whatever the run's terminal
   * status (`completed`, `failed` with `error`, `cancelled`), as `getResult` does.
   * @throws WorkflowClientError 404 for an unknown workflow, 400 for a bad start event, 409 when
   *   `handlerId` names a running handler.
   */
  async runWorkflow<N extends WorkflowName<W>>(
    name: N,
    options: RunWorkflowOptions<StartEventFor<W, N>> = {},
  ): Promise<HandlerInfo> {
    return this.#mutate(
      routePath("runWorkflow", { name }),
      options,
      runBody(options),
      (a) => fromHandlerData(decodeAnswer(HandlerDataShape, a)),
      // a run that failed or was cancelled answers 500 with the handler itself
      { ok: (a) => a.status === 200 || (a.status === 500 && checkShape(HandlerDataShape, a.body).ok) },
    );
  }

  /** Starts a workflow and resolves at once with its handler id (the handler is already recorded). */
  async runWorkflowNowait<N extends WorkflowName<W>>(
    name: N,
    options: RunWorkflowOptions<StartEventFor<W, N>> = {},
  ): Promise<StartedHandler> {
    return this.#mutate(routePath("runWorkflowNowait", { name }), options, runBody(options), (a) =>
      fromRunNowaitResponse(decodeAnswer(RunNowaitResponseShape, a)),
    );
  }

  /**
   * A handler's result. Resolves with the handler whether the run has ended (any terminal status) or
   * still runs (the server's 202: then `status` is "running" and `result` null).
   * @throws WorkflowClientError 404 for an unknown handler.
   */
  async getResult(handlerId: string, options: CallOptions = {}): Promise<HandlerInfo> {
    const answer = await this.#http.json(routePath("getResult", { handler_id: handlerId }), {
      method: "GET",
      ...options,
    });
    if (answer.status !== 200 && answer.status !== 202) throw errorFromAnswer(answer.status, answer.body);
    return fromHandlerData(decodeAnswer(HandlerDataShape, answer));
  }

  /** One handler, whatever its status. @throws WorkflowClientError 404 for an unknown handler. */
  async getHandler(handlerId: string, options: CallOptions = {}): Promise<HandlerInfo> {
    return fromHandlerData(
      decodeAnswer(
        HandlerDataShape,
        await this.#ok(routePath("getHandler", { handler_id: handlerId }), options),
      ),
    );
  }

  /** One page of handlers, newest first. */
  async getHandlersPage(query: HandlerPageQuery = {}): Promise<HandlerPageInfo> {
    const answer = await this.#http.json(routePath("listHandlers"), {
      method: "GET",
      query: {
        status: toList(query.status),
        workflow_name: toList(query.workflowName),
        limit: query.limit,
        cursor: query.cursor ?? undefined,
        blocked: query.blocked === undefined ? undefined : String(query.blocked),
        waiting: query.waiting ? "true" : undefined,
        parent_handler_id: query.parentHandlerId,
      },
      signal: query.signal,
      timeoutMs: query.timeoutMs,
    });
    if (answer.status !== 200) throw errorFromAnswer(answer.status, answer.body);
    return fromHandlerList(decodeAnswer(HandlerListShape, answer));
  }

  /**
   * Every handler matching the filters, newest first, following the pages as it is iterated.
   *
   * @example
   * for await (const h of client.getHandlers({ status: "running" })) console.log(h.handlerId);
   */
  async *getHandlers(query: HandlerQuery = {}): AsyncGenerator<HandlerInfo, void, undefined> {
    let cursor: string | null = null;
    do {
      const page: HandlerPageInfo = await this.getHandlersPage({ ...query, cursor });
      yield* page.handlers;
      cursor = page.nextCursor;
    } while (cursor !== null);
  }

  /**
   * Cancels a running handler; with `purge`, also deletes it (an ended one too). `cancelling`: the
   * server process that runs it (several processes on Postgres) has the cancellation but has not
   * applied it yet.
   * @throws WorkflowClientError 404 for an unknown handler, 409 when it has ended (without purge).
   */
  async cancelHandler(
    handlerId: string,
    options: CancelOptions = {},
  ): Promise<"cancelled" | "deleted" | "cancelling"> {
    return this.#mutate(
      routePath("cancelHandler", { handler_id: handlerId }),
      options,
      undefined,
      (a) => decodeAnswer(CancelResponseShape, a).status,
      { query: { purge: options.purge ? "true" : "false" } },
    );
  }

  /**
   * A new handler of the same workflow from this one's: a re-run from its kept start event (or
   * `startEvent`), or with `fromSequence` a fork that begins by delivering that stored event.
   * @throws WorkflowClientError 404, 409 START_EVENT_NOT_KEPT, 400 INVALID_FORK_POINT.
   */
  async forkHandler(
    handlerId: string,
    options: MutationOptions & { startEvent?: AnyStartEvent; fromSequence?: number } = {},
  ): Promise<StartedHandler> {
    const body: Record<string, unknown> = {};
    if (options.startEvent !== undefined) body["start_event"] = toWireEvent(options.startEvent);
    if (options.fromSequence !== undefined) body["from_sequence"] = options.fromSequence;
    return this.#mutate(routePath("forkHandler", { handler_id: handlerId }), options, body, (a) =>
      fromRunNowaitResponse(decodeAnswer(RunNowaitResponseShape, a)),
    );
  }

  /**
   * Sends an event into a running handler: one made by `defineEvent(...).create`, or a raw wire form.
   * Resolves once the server has durably recorded it.
   * @throws WorkflowClientError 400 for an unknown or invalid event or step, 404, 409 when the run ended.
   */
  async sendEvent(
    handlerId: string,
    event: WorkflowEvent | RawEvent,
    options: SendEventOptions = {},
  ): Promise<{ status: "sent" }> {
    const body: Record<string, unknown> = { event: toWireEvent(event) };
    if (options.step !== undefined) body["step"] = options.step;
    return this.#mutate(routePath("sendEvent", { handler_id: handlerId }), options, body, (a) =>
      decodeAnswer(SendEventResponseShape, a),
    );
  }

  /**
   * A handler's events as an async iterable of envelopes. It ends after the terminal event (one whose
   * `types` holds `workflows.events.StopEvent`) or when the run has ended and nothing is left; when
   * the connection drops it reconnects from the last sequence it saw, so no event is repeated or
   * skipped. Breaking out of the loop closes the connection.
   *
   * @throws WorkflowClientError 404 for an unknown handler; WorkflowNetworkError once `maxReconnects`
   *   attempts in a row brought no new event.
   */
  getWorkflowEvents(
    handlerId: string,
    options: EventStreamOptions = {},
  ): AsyncGenerator<EventEnvelope, void, undefined> {
    return streamEvents(this.#http, handlerId, options);
  }

  /**
   * Like {@link getWorkflowEvents}, with the text deltas steps stream with `ctx.streamText` between
   * the events (they are not stored: a reader gets those written while it is connected, and on each
   * (re)connection the text so far of the streams still open). `TextStreams` puts them together.
   */
  followRun(
    handlerId: string,
    options: FollowRunOptions = {},
  ): AsyncGenerator<RunStreamItem, void, undefined> {
    return streamItems(this.#http, handlerId, options);
  }

  /** JSON Schemas of a workflow's start and stop events. */
  async getWorkflowSchema(name: WorkflowName<W>, options: CallOptions = {}): Promise<WorkflowSchemaResponse> {
    return decodeAnswer(
      WorkflowSchemaResponseShape,
      await this.#ok(routePath("getWorkflowSchema", { name }), options),
    );
  }

  /**
   * JSON Schemas of every event a workflow declares plus its additional events (GET
   * /workflows/{name}/events); each schema's `title` is the event's type.
   */
  async getEventSchemas(
    name: WorkflowName<W>,
    options: CallOptions = {},
  ): Promise<WorkflowEventsResponse["events"]> {
    const answer = await this.#ok(routePath("getWorkflowEventSchemas", { name }), options);
    return decodeAnswer(WorkflowEventsResponseShape, answer).events;
  }

  /** A workflow's graph of steps and events, in camelCase. */
  async getWorkflowRepresentation(name: WorkflowName<W>, options: CallOptions = {}): Promise<WorkflowGraph> {
    const answer = await this.#ok(routePath("getWorkflowRepresentation", { name }), options);
    return fromRepresentation(decodeAnswer(RepresentationShape, answer));
  }

  /** The server's OpenAPI 3.1 document. */
  async getOpenApi(options: CallOptions = {}): Promise<Record<string, unknown>> {
    const answer = await this.#ok(routePath("getOpenApi"), options);
    if (typeof answer.body !== "object" || answer.body === null || Array.isArray(answer.body)) {
      throw new WorkflowClientError({
        status: 200,
        code: "INVALID_RESPONSE",
        detail: "The OpenAPI document is not an object",
      });
    }
    return answer.body as Record<string, unknown>;
  }

  // GET that must answer 200.
  async #ok(path: string, options: CallOptions) {
    const answer = await this.#http.json(path, {
      method: "GET",
      signal: options.signal,
      timeoutMs: options.timeoutMs,
    });
    if (answer.status !== 200) throw errorFromAnswer(answer.status, answer.body, answer.retryAfterMs);
    return answer;
  }

  /**
   * A POST that changes something, with its idempotency key, sent again on the failures a retry
   * can fix; resolves with `read` of the answer `ok` accepts (default: 200). Any client error it
   * throws carries the key as `idempotencyKey`, for the caller's own retry of the same call.
   */
  async #mutate<T>(
    path: string,
    options: MutationOptions,
    body: unknown,
    read: (answer: JsonAnswer) => T,
    how: { ok?: (answer: JsonAnswer) => boolean; query?: Record<string, QueryValue> } = {},
  ): Promise<T> {
    const ok = how.ok ?? ((a: JsonAnswer) => a.status === 200);
    const key = options.idempotencyKey ?? (this.#keys ? newIdempotencyKey() : undefined);
    const retry = key === undefined ? { ...this.#retry, retries: 0 } : this.#retry;
    try {
      const answer = await withRetries(retry, options.signal, async () => {
        const answer = await this.#http.json(path, {
          method: "POST",
          query: how.query ?? {},
          body,
          signal: options.signal,
          timeoutMs: options.timeoutMs,
          idempotencyKey: key,
        });
        if (!ok(answer)) throw errorFromAnswer(answer.status, answer.body, answer.retryAfterMs);
        return answer;
      });
      return read(answer);
    } catch (error) {
      throw withIdempotencyKey(error, key);
    }
  }
}

function runBody(options: RunWorkflowOptions<unknown>): Record<string, unknown> {
  const body: Record<string, unknown> = {};
  if (options.startEvent !== undefined) body["start_event"] = toWireEvent(options.startEvent);
  if (options.context !== undefined) body["context"] = options.context;
  if (options.handlerId !== undefined) body["handler_id"] = options.handlerId;
  return body;
}

const toList = (v: string | readonly string[] | undefined): readonly string[] | undefined =>
  v === undefined ? undefined : typeof v === "string" ? [v] : v;
