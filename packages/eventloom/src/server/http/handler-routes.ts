import { WorkflowError } from "../../core/index.js";
import { type HandlersQuery, parseCancelQuery, parseHandlersQuery } from "../../protocol/index.js";
import type { HandlerPage, HandlerRecord, Store } from "../../stores/store.js";
import { awaitEnded, CANCEL_WAIT_MS } from "../runs/await-ended.js";
import { startEventOf } from "../runs/start-events.js";
import type { Runtime } from "../server-context.js";
import { json } from "./answer.js";
import type { RouteHandlers } from "./route-handler.js";
import { waitingPage } from "./waiting-runs.js";

/**
 * A listed handler's result is left out (`result: null`, `result_truncated: true`) when its JSON is
 * longer than this: a page of 1000 handlers stays under about 4 MiB whatever the results weigh.
 * GET /handlers/{handler_id} and /results/{handler_id} give it whole.
 */
export const LISTED_RESULT_MAX_BYTES = 4096;
/**
 * A listed handler's `error` longer than this many bytes is cut to its first 1024 characters
 * (`error_truncated: true`): the code, the step and the message's start stay; GET /handlers/{handler_id} has it whole.
 */
export const LISTED_ERROR_MAX_BYTES = 4096;

const notFound = (handlerId: string) =>
  new WorkflowError("HANDLER_NOT_FOUND", `Handler "${handlerId}" not found`);

/** The record of a handler, or a 404. */
export async function requireHandler(runtime: Runtime, handlerId: string): Promise<HandlerRecord> {
  const record = await runtime.store.getHandler(handlerId);
  if (!record) throw notFound(handlerId);
  return record;
}

const listPage = (store: Store, query: HandlersQuery, limit: number, cursor: string | null | undefined) =>
  store.listHandlers({
    status: query.status,
    workflowName: query.workflow_name,
    limit,
    cursor: cursor ?? null,
    maxResultBytes: LISTED_RESULT_MAX_BYTES,
    maxErrorBytes: LISTED_ERROR_MAX_BYTES,
    ...(query.blocked === undefined ? {} : { blocked: query.blocked }),
    ...(query.parent_handler_id === undefined ? {} : { parentHandlerId: query.parent_handler_id }),
  });

/** Every handler the filters match, newest first, read a largest page at a time. */
async function everyHandler(store: Store, query: HandlersQuery): Promise<HandlerPage> {
  const handlers: HandlerRecord[] = [];
  let cursor: string | null = null;
  do {
    const page: HandlerPage = await listPage(store, query, MAX_PAGE, cursor);
    handlers.push(...page.handlers);
    cursor = page.nextCursor;
  } while (cursor !== null);
  return { handlers, nextCursor: null };
}

/** The largest page `limit` allows. */
const MAX_PAGE = 1000;

/** /results, /handlers (listing, lookup) and cancel. */
export const handlerHandlers: RouteHandlers<"getResult" | "listHandlers" | "getHandler" | "cancelHandler"> = {
  getResult: async (ctx, _request, p) => {
    const record = await requireHandler(await ctx.runtime(), p["handler_id"] as string);
    return { kind: "record", of: "result", record };
  },

  listHandlers: async (ctx, request) => {
    const params = new URLSearchParams(request.query);
    const query = parseHandlersQuery(params);
    const { store } = await ctx.runtime();
    // LlamaIndex's clients never follow a cursor: in their dialect a listing without `limit` or
    // `cursor` is every handler.
    const unpaged = request.wire() === "llama-agents" && !params.has("limit") && !params.has("cursor");
    const page = query.waiting
      ? await waitingPage(store, (status) =>
          listPage(store, { ...query, status: [status] }, query.limit, query.cursor),
        )
      : unpaged
        ? await everyHandler(store, query)
        : await listPage(store, query, query.limit, query.cursor);
    return { kind: "record", of: "list", records: page.handlers, nextCursor: page.nextCursor };
  },

  getHandler: async (ctx, _request, p) => {
    const runtime = await ctx.runtime();
    const record = await requireHandler(runtime, p["handler_id"] as string);
    const startEvent = await startEventOf(runtime.store, record.handlerId);
    // A queued run's place in its run limit's queue (read now: it only moves forward).
    const position = record.queued ? await runtime.store.queuePosition(record.handlerId) : null;
    const lookup = { ...record, startEvent, ...(position ? { queuePosition: position } : {}) };
    return { kind: "record", of: "lookup", record: lookup };
  },

  cancelHandler: async (ctx, request, p) => {
    const { purge } = parseCancelQuery(new URLSearchParams(request.query));
    const { manager, store, signals, clock } = await ctx.runtime();
    const handlerId = p["handler_id"] as string;
    const ticket = request.idempotency;
    const answer = { status: purge ? "deleted" : "cancelled" };
    const status = await manager.cancel(
      handlerId,
      purge,
      ticket && (() => ticket.write({ handlerId, runId: null, status: 200, body: JSON.stringify(answer) })),
    );
    // Through a process that does not run the handler, the cancellation went to its owner's inbox:
    // answered once the owner applied it; 202 `cancelling` while it has not yet (it is durable, and
    // applied when the owner, or the process that takes the handler over, reads its inbox).
    if (status === "cancelled" && !(await awaitEnded(store, signals, handlerId, CANCEL_WAIT_MS, clock)))
      return json({ status: "cancelling" }, 202);
    return json({ status });
  },
};
