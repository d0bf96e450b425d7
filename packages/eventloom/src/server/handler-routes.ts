import type { Hono } from "hono";
import { WorkflowError } from "../core/index.js";
import { parseCancelQuery, parseHandlersQuery, toHandlerData } from "../protocol/index.js";
import type { HandlerRecord } from "../stores/store.js";
import { json } from "./json-response.js";
import { awaitEnded, CANCEL_WAIT_MS } from "./runs/await-ended.js";
import type { Runtime, ServerContext } from "./server-context.js";

const notFound = (handlerId: string) =>
  new WorkflowError("HANDLER_NOT_FOUND", `Handler "${handlerId}" not found`);

/** The record of a handler, or a 404. */
export async function requireHandler(runtime: Runtime, handlerId: string): Promise<HandlerRecord> {
  const record = await runtime.store.getHandler(handlerId);
  if (!record) throw notFound(handlerId);
  return record;
}

/** /results, /handlers (listing, lookup) and cancel. */
export function mountHandlerRoutes(app: Hono, ctx: ServerContext): void {
  app.get("/results/:id", async (c) => {
    const record = await requireHandler(await ctx.runtime(), c.req.param("id"));
    return json(toHandlerData(record), record.status === "running" ? 202 : 200);
  });

  app.get("/handlers", async (c) => {
    const query = parseHandlersQuery(new URL(c.req.url).searchParams);
    const { store } = await ctx.runtime();
    const page = await store.listHandlers({
      status: query.status,
      workflowName: query.workflow_name,
      limit: query.limit,
      cursor: query.cursor ?? null,
    });
    return json({ handlers: page.handlers.map(toHandlerData), next_cursor: page.nextCursor });
  });

  app.get("/handlers/:id", async (c) => {
    const record = await requireHandler(await ctx.runtime(), c.req.param("id"));
    return json(toHandlerData(record));
  });

  app.post("/handlers/:id/cancel", async (c) => {
    const { purge } = parseCancelQuery(new URL(c.req.url).searchParams);
    const { manager, store, signals, clock } = await ctx.runtime();
    const handlerId = c.req.param("id");
    const status = await manager.cancel(handlerId, purge);
    // Through a process that does not run the handler, the cancellation went to its owner's inbox:
    // answer once the owner applied it (bounded: the request is durable either way).
    if (status === "cancelled") await awaitEnded(store, signals, handlerId, CANCEL_WAIT_MS, clock);
    return json({ status });
  });
}
