import { UnknownStepError, WorkflowError, type WorkflowEvent } from "../../core/index.js";
import { type LiveText, liveTextOf } from "../../core/text-stream.js";
import { decodeIncomingEvent, parseEventsQuery, parseSendEventRequest } from "../../protocol/index.js";
import { nothingAfter, openEventFeed } from "../event-stream.js";
import { childIds, openFamilyFeed } from "../family-feed.js";
import type { RegisteredWorkflow } from "../registry.js";
import type { Runtime, ServerContext } from "../server-context.js";
import { type Answer, empty, json } from "./answer.js";
import { requireHandler } from "./handler-routes.js";
import type { RouteHandlers } from "./route-handler.js";

const LAST_EVENT_ID = /^(-1|0|[1-9][0-9]{0,15})$/;

/**
 * GET /events/{id} up to the stream: the handler (404), the cursor (`after_sequence`, or SSE's
 * `Last-Event-ID`; 400 when malformed), 204 for an ended handler with nothing left to send, else the
 * stream, opened by the sink.
 */
async function streamEvents(
  ctx: ServerContext,
  handlerId: string,
  search: URLSearchParams,
  lastEventIdHeader: string | undefined,
): Promise<Answer> {
  const query = parseEventsQuery(search);
  const runtime = ctx.readyRuntime() ?? (await ctx.runtime());
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
    return empty(204);
  }
  return {
    kind: "stream",
    status: 200,
    // no-transform: compression in front (Express's compression(), Next.js) would hold events back.
    headers: query.sse
      ? {
          "content-type": "text/event-stream; charset=utf-8",
          "cache-control": "no-cache, no-transform",
          "x-accel-buffering": "no",
        }
      : { "content-type": "application/x-ndjson; charset=utf-8", "cache-control": "no-cache, no-transform" },
    open: (onEnd) => {
      const options = {
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
        ...(query.include_deltas ? { liveText: () => liveTextFor(runtime, handlerId) } : {}),
        onEnd,
      };
      if (!query.include_children) return openEventFeed(options);
      const live = () => runtime.manager.live(handlerId);
      return openFamilyFeed(options, async () => {
        const ids = childIds(
          live()?.engine ? (live()?.state ?? null) : await runtime.store.loadState(handlerId),
        );
        const exists = await Promise.all(ids.map((id) => runtime.store.getHandler(id)));
        return ids.filter((_, i) => exists[i] !== null);
      });
    },
  };
}

/** The text streams of the handler's run when this process runs it now. */
function liveTextFor(runtime: Runtime, handlerId: string): LiveText | null {
  const engine = runtime.manager.live(handlerId)?.engine;
  return engine ? liveTextOf(engine) : null;
}

/** 400 for an event that may not come from outside the run (a StopEvent, a step-to-step event). */
function refuseInsideEvent(entry: RegisteredWorkflow, event: WorkflowEvent): void {
  const { any, names, types } = entry.outside;
  if (any || names.has(event.qualifiedName)) return;
  const accepted = types.length > 0 ? `accepted: ${types.join(", ")}` : "it accepts no event from outside";
  throw new WorkflowError(
    "EVENT_NOT_ACCEPTED_FROM_OUTSIDE",
    `Workflow "${entry.name}" does not take ${event.type} from outside (${accepted}); declare it with waitsFor on a step or additionalEvents, or register the workflow with acceptAnyEvent`,
    { issues: [{ path: "event.type", message: `Not accepted from outside (${accepted})` }] },
  );
}

/** GET /events/{id} (SSE or NDJSON) and POST /events/{id}. */
export const eventHandlers: RouteHandlers<"streamEvents" | "sendEvent"> = {
  streamEvents: (ctx, request, p) =>
    streamEvents(
      ctx,
      p["handler_id"] as string,
      new URLSearchParams(request.query),
      request.header("last-event-id"),
    ),

  sendEvent: async (ctx, request, p) => {
    const handlerId = p["handler_id"] as string;
    const body = parseSendEventRequest(await request.readJson(ctx.bodyLimitBytes));
    const runtime = await ctx.runtime();
    const record = await requireHandler(runtime, handlerId);
    if (record.status === "running" && !ctx.registry.get(record.workflowName)) {
      throw new WorkflowError(
        "HANDLER_BLOCKED",
        `Handler "${handlerId}" is running but cannot go on with the code now loaded: its workflow "${record.workflowName}" is not registered. Cancel it, or start the server with code that fits`,
      );
    }
    const entry = ctx.registry.require(record.workflowName);
    const event = decodeIncomingEvent(body.event, entry.resolve, "event");
    refuseInsideEvent(entry, event);
    if (record.status !== "running") {
      throw new WorkflowError("HANDLER_ENDED", `Handler "${handlerId}" has already ended (${record.status})`);
    }
    // Checked here as well: a process that does not run the handler only records the event for its owner.
    if (body.step != null && !entry.workflow.getStep(body.step)) throw new UnknownStepError(body.step);
    const answer = { status: "sent" } as const;
    const ticket = request.idempotency;
    await runtime.manager.send(
      handlerId,
      event,
      body.step ?? null,
      ticket && (() => ticket.write({ handlerId, runId: null, status: 200, body: JSON.stringify(answer) })),
    );
    // A run held here links its requests itself (run-trace.ts); one another process holds, from its state.
    const tracing = ctx.tracing();
    if (tracing && !runtime.manager.isLive(handlerId))
      await tracing.linkStoredRun(handlerId, () => runtime.store.loadState(handlerId));
    return json(answer);
  },
};
