import type { Hono } from "hono";
import {
  buildOpenApiDocument,
  decodeStartEvent,
  parseRunRequest,
  toHandlerData,
  toRunNowaitResponse,
} from "../protocol/index.js";
import type { HandlerRecord } from "../stores/store.js";
import { eventSchemas, startStopSchemas, workflowGraph } from "./event-schemas.js";
import { JSON_CONTENT_TYPE, type JsonAnswer, json } from "./json-response.js";
import { nodeBody, readJsonBody } from "./read-json-body.js";
import type { ServerContext } from "./server-context.js";

/**
 * POST /workflows/{name}/run (`wait`) or run-nowait: starts a run of the request's body and answers
 * once it ended (or, without `wait`, once its start is durable). Shared by the hono route and the
 * node fast path (node-listener.ts).
 */
export async function startRun(
  ctx: ServerContext,
  name: string,
  wait: boolean,
  readBody: () => Promise<unknown>,
): Promise<JsonAnswer> {
  const entry = ctx.registry.require(name);
  const body = parseRunRequest(await readBody());
  const startEvent = decodeStartEvent(body.start_event ?? undefined, entry.startEvent, entry.resolve);
  const context = body.context && Object.keys(body.context).length > 0 ? body.context : null;
  const { manager, writer, store } = await ctx.runtime();
  const { run, ended } = await manager.start(entry, {
    start: startEvent,
    context,
    handlerId: body.handler_id || null,
    awaitEnd: wait,
  });
  if (!wait) {
    const record = run.record();
    await writer.flush();
    return { status: 200, body: toRunNowaitResponse(record) };
  }
  // The run goes on if the client disconnects: nothing here listens to the request's signal.
  await ended;
  // The live record is the final one once `ended` settles, unless the run left memory while it
  // waited (idle release) and ended in another LiveRun: then the store has it.
  const record: HandlerRecord =
    run.state.status !== "running" ? run.record() : ((await store.getHandler(run.handlerId)) ?? run.record());
  return { status: record.status === "completed" ? 200 : 500, body: toHandlerData(record) };
}

/** /workflows, run, run-nowait, and the schema, events and graph look-ups; /openapi.json. */
export function mountWorkflowRoutes(app: Hono, ctx: ServerContext): void {
  let openApi: string | null = null;
  app.get("/openapi.json", () => {
    openApi ??= JSON.stringify(buildOpenApiDocument());
    return new Response(openApi, { headers: { "content-type": JSON_CONTENT_TYPE } });
  });

  app.get("/workflows", () => json({ workflows: ctx.registry.names }));

  const start = async (request: Request, env: unknown, name: string, wait: boolean) => {
    const answer = await startRun(ctx, name, wait, () =>
      readJsonBody(request, ctx.bodyLimitBytes, nodeBody(env)),
    );
    return json(answer.body, answer.status);
  };
  app.post("/workflows/:name/run", (c) => start(c.req.raw, c.env, c.req.param("name"), true));
  app.post("/workflows/:name/run-nowait", (c) => start(c.req.raw, c.env, c.req.param("name"), false));

  app.get("/workflows/:name/schema", (c) =>
    json(startStopSchemas(ctx.registry.require(c.req.param("name")))),
  );
  app.get("/workflows/:name/events", (c) =>
    json({ events: eventSchemas(ctx.registry.require(c.req.param("name"))) }),
  );
  app.get("/workflows/:name/representation", (c) =>
    json(workflowGraph(ctx.registry.require(c.req.param("name")))),
  );
}
