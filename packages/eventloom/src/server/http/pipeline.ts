import { refuseForbiddenKeys } from "../../protocol/index.js";
import type { ServerContext } from "../server-context.js";
import { type Answer, errorAnswer, JSON_CONTENT_TYPE, json, type WireAnswer } from "./answer.js";
import { apiGate } from "./api-gate.js";
import { addCorsHeaders, preflightHeaders } from "./cors.js";
import type { HttpRequest } from "./http-request.js";
import { answerKeyed } from "./idempotent-request.js";
import { refusalPage } from "./refusal-page.js";
import { guardRequest, refuseUntypedBody } from "./request-guards.js";
import { allowedMethods, isApiPath, matchRoute } from "./route-table.js";
import { ROUTE_HANDLERS } from "./routes.js";
import { serveUiFile } from "./static-ui.js";

/**
 * The server's one request pipeline, whichever way a request came in (node-sink.ts for serve(),
 * web-sink.ts for server.fetch): the Host and media type checks, preflights, the route table, the
 * token and shutdown gate, 404/405, idempotency keys, the debugger's files, every body's forbidden
 * keys, every error as JSON, CORS, nosniff, and `Connection: close` while shutting down. It answers with data; the
 * sinks only write it.
 */
export async function answerRequest(ctx: ServerContext, request: HttpRequest): Promise<WireAnswer> {
  let answer: WireAnswer;
  try {
    answer = toWire(await route(ctx, request));
  } catch (error) {
    answer = refusalPage(error, request) ?? toWire(errorAnswer(error, ctx.logger));
  }
  if (request.method === "HEAD" && (answer.kind === "stream" || answer.body !== null)) {
    // The GET answer's status and headers, no body (and no stream opened).
    answer = { kind: "bytes", status: answer.status, body: null, headers: answer.headers };
  }
  const headers = answer.headers;
  // No answer of this server is to be read as another type than it says (JSON, SSE, NDJSON, files).
  headers["x-content-type-options"] = "nosniff";
  if (request.method !== "OPTIONS") addCorsHeaders(ctx.corsOrigins, request.header("origin"), headers);
  // While shutting down, every answer closes its connection so that close() need not wait on keep-alive.
  if (ctx.phase() === "closing") headers["connection"] = "close";
  return answer;
}

async function route(ctx: ServerContext, given: HttpRequest): Promise<Answer> {
  guardRequest(ctx, given);
  const request = checkedBody(given);
  const { method, path } = request;
  if (method === "OPTIONS") {
    return {
      kind: "bytes",
      status: 204,
      body: null,
      headers: preflightHeaders(ctx.corsOrigins, request.header("origin")),
    };
  }
  const match = matchRoute(method, path);
  const api = match !== null || isApiPath(path);
  if (api && (match === null || match.auth)) {
    const denied = apiGate(ctx, request.header("authorization"));
    if (denied) return denied;
  }
  if (match) {
    const handle = ROUTE_HANDLERS[match.id];
    return answerKeyed(ctx, request, match.id, (keyed) => handle(ctx, keyed, match.params));
  }
  const methods = allowedMethods(path);
  if (methods && !methods.includes(method)) {
    return json({ detail: `Method ${method} not allowed on ${path}`, code: "METHOD_NOT_ALLOWED" }, 405, {
      allow: methods.join(", "),
    });
  }
  if (!api && (method === "GET" || method === "HEAD")) {
    const file = await serveUiFile(
      await ctx.uiDir(),
      path,
      method === "HEAD",
      request.header("accept-encoding") ?? null,
    );
    if (file) return file;
  }
  return json({ detail: `No route for ${method} ${path}`, code: "NOT_FOUND" }, 404);
}

/** The request whose body, once parsed, is checked whole: its media type and its keys. */
function checkedBody(request: HttpRequest): HttpRequest {
  return {
    method: request.method,
    path: request.path,
    query: request.query,
    header: request.header,
    readJson: async (limit) => {
      const body = await request.readJson(limit);
      refuseUntypedBody(request, body);
      refuseForbiddenKeys(body);
      return body;
    },
  };
}

/** A JSON answer serialized; the others as they are. */
function toWire(answer: Answer): WireAnswer {
  if (answer.kind === "bytes" || answer.kind === "stream") return answer;
  const headers = { "content-type": JSON_CONTENT_TYPE, ...answer.headers };
  return { kind: "bytes", status: answer.status, body: JSON.stringify(answer.body), headers };
}
