import type { ServerResponse } from "node:http";
import { Hono } from "hono";
import { cors } from "hono/cors";
import { apiGate } from "./api-gate.js";
import { setCorsHeaders } from "./cors.js";
import { mountEventRoutes } from "./event-routes.js";
import { mountHandlerRoutes } from "./handler-routes.js";
import { errorResponse, json } from "./json-response.js";
import { allowedMethods, isApiPath } from "./route-table.js";
import type { ServerContext } from "./server-context.js";
import { serveUiFile } from "./static-ui.js";
import { mountWorkflowRoutes } from "./workflow-routes.js";

/** The server's HTTP app: CORS, auth, the API routes, the debugger's files, and JSON errors. */
export function createApp(ctx: ServerContext): Hono {
  const app = new Hono();

  app.onError((error) => errorResponse(error, ctx.logger));

  // While shutting down, every answer closes its connection so that close() need not wait on keep-alive.
  app.use("*", async (c, next) => {
    await next();
    if (ctx.phase() === "closing") c.res.headers.set("connection", "close");
  });

  const corsMiddleware = cors({
    origin: ctx.corsOrigins,
    allowMethods: ["GET", "POST", "OPTIONS"],
    allowHeaders: ["Authorization", "Content-Type", "Last-Event-ID"],
    maxAge: 600,
  });
  app.use("*", async (c, next) => {
    // Served by node (serve()): put the CORS header on the node response before the answer is
    // written. Adding it to the Response afterwards, as the middleware does, turns every answer into
    // a slow one (the adapter has to stream it); that alone cut throughput fivefold.
    const outgoing = (c.env as { outgoing?: ServerResponse } | undefined)?.outgoing;
    if (outgoing && c.req.method !== "OPTIONS") {
      setCorsHeaders(ctx.corsOrigins, c.req.header("origin"), outgoing);
      return next();
    }
    return corsMiddleware(c, next);
  });

  app.get("/health", async () => {
    if (ctx.phase() === "closing") return json({ status: "unhealthy" }, 503);
    try {
      await ctx.runtime();
    } catch {
      return json({ status: "unhealthy" }, 503);
    }
    return ctx.phase() === "ready" ? json({ status: "healthy" }) : json({ status: "unhealthy" }, 503);
  });

  app.use("*", async (c, next) => {
    const path = c.req.path;
    if (!isApiPath(path)) return next();
    const denied = apiGate(ctx, c.req.header("authorization"));
    return denied ? json(denied.body, denied.status, denied.headers) : next();
  });

  mountWorkflowRoutes(app, ctx);
  mountHandlerRoutes(app, ctx);
  mountEventRoutes(app, ctx);

  app.notFound(async (c) => {
    const path = c.req.path;
    const methods = allowedMethods(path);
    if (methods && !methods.includes(c.req.method)) {
      return json(
        { detail: `Method ${c.req.method} not allowed on ${path}`, code: "METHOD_NOT_ALLOWED" },
        405,
        { allow: methods.join(", ") },
      );
    }
    if (!isApiPath(path) && (c.req.method === "GET" || c.req.method === "HEAD")) {
      const head = c.req.method === "HEAD";
      const file = await serveUiFile(await ctx.uiDir(), path, head, c.req.header("accept-encoding") ?? null);
      if (file) return file;
    }
    return json({ detail: `No route for ${c.req.method} ${path}`, code: "NOT_FOUND" }, 404);
  });

  return app;
}
