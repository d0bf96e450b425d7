import type { Hono } from "hono";
import { UnknownStepError, WorkflowError } from "../core/index.js";
import { decodeIncomingEvent, parseEventsQuery, parseSendEventRequest } from "../protocol/index.js";
import { type EventFeed, feedToWebStream, nothingAfter, openEventFeed } from "./event-stream.js";
import { requireHandler } from "./handler-routes.js";
import { json } from "./json-response.js";
import { nodeBody, readJsonBody } from "./read-json-body.js";
import type { ServerContext } from "./server-context.js";

const LAST_EVENT_ID = /^(-1|0|[1-9][0-9]{0,15})$/;

/** A stream about to open: what GET /events/{id} answers with 200. */
export interface PreparedStream {
  headers: Record<string, string>;
  /** Opens the feed; `onEnd` is called once when it ends, whatever the reason. */
  open(onEnd: () => void): EventFeed;
}

/**
 * GET /events/{id} up to the stream: the handler (404), the cursor (`after_sequence`, or SSE's
 * `Last-Event-ID`; 400 when malformed), and 204 (null) for an ended handler with nothing left to send.
 * Shared by the hono route and the node fast path (node-listener.ts).
 */
export async function prepareEventStream(
  ctx: ServerContext,
  handlerId: string,
  search: URLSearchParams,
  lastEventIdHeader: string | undefined,
): Promise<PreparedStream | null> {
  const query = parseEventsQuery(search);
  const runtime = await ctx.runtime();
  const record = await requireHandler(runtime, handlerId);
  let after: number;
  const lastEventId = query.sse ? lastEventIdHeader : undefined;
  if (lastEventId !== undefined && lastEventId.trim() !== "") {
    const trimmed = lastEventId.trim();
    if (!LAST_EVENT_ID.test(trimmed)) {
      throw new WorkflowError("INVALID_CURSOR", "Last-Event-ID must be an integer >= -1", {
        issues: [{ path: "Last-Event-ID", message: "Expected an integer >= -1" }],
      });
    }
    after = Number(trimmed);
  } else if (query.after_sequence === "now") {
    const live = runtime.manager.live(handlerId);
    after = live?.engine ? live.state.nextSequence - 1 : await runtime.store.lastSequence(handlerId);
  } else {
    after = query.after_sequence;
  }
  if (!Number.isSafeInteger(after)) {
    throw new WorkflowError("INVALID_CURSOR", "The cursor is out of range");
  }
  if (
    record.status !== "running" &&
    (await nothingAfter(runtime.store, handlerId, after, query.include_internal, ctx.pageSize))
  ) {
    return null;
  }
  return {
    headers: query.sse
      ? {
          "content-type": "text/event-stream; charset=utf-8",
          "cache-control": "no-cache",
          "x-accel-buffering": "no",
        }
      : { "content-type": "application/x-ndjson; charset=utf-8", "cache-control": "no-cache" },
    open: (onEnd) =>
      openEventFeed({
        onEnd,
        store: runtime.store,
        signals: runtime.signals,
        recent: runtime.recent,
        handlerId,
        after,
        sse: query.sse,
        includeInternal: query.include_internal,
        includeQualifiedName: query.include_qualified_name,
        pingIntervalMs: ctx.pingIntervalMs,
        clock: ctx.clock,
        pageSize: ctx.pageSize,
      }),
  };
}

/** GET /events/{id} (SSE or NDJSON) and POST /events/{id}. */
export function mountEventRoutes(app: Hono, ctx: ServerContext): void {
  app.get("/events/:id", async (c) => {
    const prepared = await prepareEventStream(
      ctx,
      c.req.param("id"),
      new URL(c.req.url).searchParams,
      c.req.header("last-event-id"),
    );
    if (!prepared) return new Response(null, { status: 204 });
    const stream = feedToWebStream(prepared.open(() => ctx.streams.delete(stream)));
    ctx.streams.add(stream);
    return new Response(stream.body, { headers: prepared.headers });
  });

  app.post("/events/:id", async (c) => {
    const handlerId = c.req.param("id");
    const body = parseSendEventRequest(await readJsonBody(c.req.raw, ctx.bodyLimitBytes, nodeBody(c.env)));
    const runtime = await ctx.runtime();
    const record = await requireHandler(runtime, handlerId);
    const entry = ctx.registry.require(record.workflowName);
    const event = decodeIncomingEvent(body.event, entry.resolve, "event");
    if (record.status !== "running") {
      throw new WorkflowError("HANDLER_ENDED", `Handler "${handlerId}" has already ended (${record.status})`);
    }
    // Checked here as well: a process that does not run the handler only records the event for its owner.
    if (body.step != null && !entry.workflow.getStep(body.step)) throw new UnknownStepError(body.step);
    await runtime.manager.send(handlerId, event, body.step ?? null);
    return json({ status: "sent" });
  });
}
