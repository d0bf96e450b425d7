import { timeOrderedId } from "../../core/clock.js";
import { WorkflowError } from "../../core/index.js";
import {
  buildOpenApiDocument,
  decodeRunStart,
  parseRunRequest,
  type RunNowaitResponse,
  toHandlerData,
  toRunNowaitResponse,
} from "../../protocol/index.js";
import { isKeyConflict } from "../../stores/idempotency.js";
import type { HandlerRecord, Store } from "../../stores/store.js";
import { eventSchemas, startStopSchemas, workflowGraph } from "../event-schemas.js";
import { checkForeignContext } from "../foreign-context.js";
import type { EndSeen } from "../runs/end-waiters.js";
import type { StartedHandler, StartedRun } from "../runs/run-manager.js";
import type { ServerContext } from "../server-context.js";
import { type Answer, errorAnswer, JSON_CONTENT_TYPE, json, type RecordAnswer } from "./answer.js";
import type { HttpRequest } from "./http-request.js";
import { settleOutcome } from "./idempotent-request.js";
import type { RouteHandlers } from "./route-handler.js";

/**
 * POST /workflows/{name}/run (`wait`) or run-nowait: starts a run of the request's body and answers
 * once it ended (or, without `wait`, once its start is durable).
 */
async function startRun(
  ctx: ServerContext,
  request: HttpRequest,
  name: string,
  wait: boolean,
): Promise<Answer> {
  const entry = ctx.registry.require(name);
  const body = parseRunRequest(await request.readJson(ctx.bodyLimitBytes));
  const startEvent = decodeRunStart(body.start_event, body.kwargs, entry.startEvent, entry.resolve);
  const given = body.context && Object.keys(body.context).length > 0 ? body.context : null;
  if (given !== null && !ctx.acceptContext) {
    throw new WorkflowError(
      "CONTEXT_NOT_ACCEPTED",
      "This server does not accept a run's context from clients (WorkflowServer option acceptContext)",
      { issues: [{ path: "context", message: "Not accepted by this server" }] },
    );
  }
  const context =
    given === null
      ? null
      : (checkForeignContext(given, entry, ctx.clock.now()) as unknown as Record<string, unknown>);
  const { manager, writer, store } = ctx.readyRuntime() ?? (await ctx.runtime());
  // Named in every 5xx from here on: the handler may exist (its start may even be durable). A new
  // handler's id is made here, not by the manager, so that a start failing after its record was
  // written (a run-limited start commits before it returns) still names it.
  const handlerId = body.handler_id || timeOrderedId(ctx.clock.now());
  const ticket = request.idempotency;
  // run-nowait's answer, made once: the key's record (written with the first commit) holds it too.
  let nowait: RunNowaitResponse | null = null;
  const nowaitAnswer = (run: StartedHandler): RunNowaitResponse => {
    nowait ??= toRunNowaitResponse(run.record());
    return nowait;
  };
  try {
    const started = await manager.start(entry, {
      start: startEvent,
      context,
      handlerId: body.handler_id || null,
      newId: handlerId,
      awaitEnd: wait,
      key:
        ticket &&
        ((run) =>
          ticket.write({
            handlerId: run.handlerId,
            runId: run.record().runId,
            // run's answer is the run's outcome, recorded once it is known.
            status: wait ? null : 200,
            body: wait ? null : JSON.stringify(nowaitAnswer(run)),
          })),
    });
    if (!wait) {
      const answer = nowaitAnswer(started);
      const record = started.record();
      // This handler's changes: a write refused for it alone fails this answer, not a later one.
      await writer.flush(started.handlerId);
      // With a key, the answer is the one stored for it (the seed dialect), so that a replay gives
      // the same; without, the record, shaped in the request's dialect.
      return ticket ? { status: 200, body: answer } : { kind: "record", of: "started", record };
    }
    // The run goes on if the client disconnects: nothing here listens to the request's signal.
    const seen = await started.ended;
    const answer = liveEndAnswer(started, seen) ?? (await storedEndAnswer(started, store));
    // With a key, the seed dialect's answer: the one stored for the key, which a replay gives again.
    if (!ticket) return answer;
    return settleOutcome(writer, ticket, { status: answer.status, body: toHandlerData(answer.record) });
  } catch (error) {
    // Another request with the key stored its change first: the pipeline answers with it.
    if (isKeyConflict(error)) throw error;
    const answer = errorAnswer(error, ctx.logger);
    if (answer.status >= 500) answer.body = { ...(answer.body as object), handler_id: handlerId };
    return answer;
  }
}

/**
 * run's answer once the run ended, from the live record: the final one once `ended` settles here,
 * unless the run left this process while it waited (idle release, takeover, its run limit's queue)
 * and ended elsewhere; then null, and only the store has it ({@link storedEndAnswer}).
 */
function liveEndAnswer(started: StartedRun, seen: EndSeen | null): RunAnswer | null {
  const run = seen === "here" && started.run?.state.status !== "running" ? started.run : null;
  if (!run) return null;
  return runAnswer(run.record(), run.state.outcome?.stopEvent ?? null);
}

/** run's answer once the run ended elsewhere: its record in the store, 500 when it did not complete. */
async function storedEndAnswer(started: StartedRun, store: Store): Promise<RunAnswer> {
  const record: HandlerRecord | null = await store.getHandler(started.handlerId);
  // The run left this process before anything of it was stored (cut off from the store, it stopped
  // its runs), or its handler was deleted meanwhile: what it did in memory is not durable.
  if (!record) {
    throw new WorkflowError(
      "LEASE_LOST",
      `The run of handler "${started.handlerId}" left this process before its end was stored, and the store holds no record of it`,
    );
  }
  return runAnswer(record, null);
}

type RunAnswer = Extract<RecordAnswer, { of: "run" }>;

/** run's answer of an ended run's record: 200 when it completed, else 500. */
const runAnswer = (record: HandlerRecord, stopEvent: RunAnswer["stopEvent"]): RunAnswer => ({
  kind: "record",
  of: "run",
  status: record.status === "completed" ? 200 : 500,
  record,
  stopEvent,
});

/** Built on the first request for each base path, then served as the same text. */
const openApiByBase = new Map<string, string>();

/** /workflows, run, run-nowait, and the schema, events and graph look-ups; /openapi.json. */
export const workflowHandlers: RouteHandlers<
  | "getHealth"
  | "getOpenApi"
  | "listWorkflows"
  | "runWorkflow"
  | "runWorkflowNowait"
  | "getWorkflowSchema"
  | "getWorkflowEventSchemas"
  | "getWorkflowRepresentation"
> = {
  getHealth: async (ctx): Promise<Answer> => {
    const unhealthy = json({ status: "unhealthy" }, 503);
    if (ctx.phase() === "closing") return unhealthy;
    try {
      await ctx.runtime();
    } catch {
      return unhealthy;
    }
    return ctx.phase() === "ready" ? json({ status: "healthy" }) : unhealthy;
  },
  getOpenApi: (ctx) => {
    let body = openApiByBase.get(ctx.basePath);
    if (body === undefined) {
      body = JSON.stringify(buildOpenApiDocument({ basePath: ctx.basePath }));
      openApiByBase.set(ctx.basePath, body);
    }
    return { kind: "bytes", status: 200, body, headers: { "content-type": JSON_CONTENT_TYPE } };
  },
  listWorkflows: (ctx) => json({ workflows: ctx.registry.names }),
  runWorkflow: (ctx, request, p) => startRun(ctx, request, p["name"] as string, true),
  runWorkflowNowait: (ctx, request, p) => startRun(ctx, request, p["name"] as string, false),
  getWorkflowSchema: (ctx, _request, p) => json(startStopSchemas(ctx.registry.require(p["name"] as string))),
  getWorkflowEventSchemas: (ctx, _request, p) =>
    json({ events: eventSchemas(ctx.registry.require(p["name"] as string)) }),
  getWorkflowRepresentation: (ctx, _request, p) =>
    json(workflowGraph(ctx.registry.require(p["name"] as string))),
};
