import { WorkflowError } from "../../core/index.js";
import { parseCancelQuery, parseHandlersQuery, toHandlerData } from "../../protocol/index.js";
import type { HandlerRecord } from "../../stores/store.js";
import { awaitEnded, CANCEL_WAIT_MS } from "../runs/await-ended.js";
import type { Runtime } from "../server-context.js";
import { json } from "./answer.js";
import type { RouteHandlers } from "./route-handler.js";

const notFound = (handlerId: string) =>
  new WorkflowError("HANDLER_NOT_FOUND", `Handler "${handlerId}" not found`);

/** The record of a handler, or a 404. */
export async function requireHandler(runtime: Runtime, handlerId: string): Promise<HandlerRecord> {
  const record = await runtime.store.getHandler(handlerId);
  if (!record) throw notFound(handlerId);
  return record;
}

/** /results, /handlers (listing, lookup) and cancel. */
export const handlerHandlers: RouteHandlers<"getResult" | "listHandlers" | "getHandler" | "cancelHandler"> = {
  getResult: async (ctx, _request, p) => {
    const record = await requireHandler(await ctx.runtime(), p["handler_id"] as string);
    return json(toHandlerData(record), record.status === "running" ? 202 : 200);
  },

  listHandlers: async (ctx, request) => {
    const query = parseHandlersQuery(new URLSearchParams(request.query));
    const { store } = await ctx.runtime();
    const page = await store.listHandlers({
      status: query.status,
      workflowName: query.workflow_name,
      limit: query.limit,
      cursor: query.cursor ?? null,
    });
    return json({ handlers: page.handlers.map(toHandlerData), next_cursor: page.nextCursor });
  },

  getHandler: async (ctx, _request, p) => {
    const record = await requireHandler(await ctx.runtime(), p["handler_id"] as string);
    return json(toHandlerData(record));
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
    // answer once the owner applied it (bounded: the request is durable either way).
    if (status === "cancelled") await awaitEnded(store, signals, handlerId, CANCEL_WAIT_MS, clock);
    return json({ status });
  },
};
