import { refuseForbiddenKeys, type WireDialect } from "../../protocol/index.js";
import type { ServerContext } from "../server-context.js";
import {
  type Answer,
  errorAnswer,
  JSON_CONTENT_TYPE,
  json,
  type RecordAnswer,
  type WireAnswer,
} from "./answer.js";
import { apiGate } from "./api-gate.js";
import { insideBase } from "./base-path.js";
import { addCorsHeaders, preflightHeaders } from "./cors.js";
import type { HttpRequest } from "./http-request.js";
import { answerKeyed } from "./idempotent-request.js";
import { refusalPage } from "./refusal-page.js";
import { guardRequest, refuseUntypedBody } from "./request-guards.js";
import type { RoutedRequest } from "./route-handler.js";
import { allowedMethods, isApiPath, matchRoute } from "./route-table.js";
import { ROUTE_HANDLERS } from "./routes.js";
import { serveUiFile } from "./static-ui.js";
import { requestWire, shapeAnswer } from "./wire-shapes.js";

/**
 * The server's one request pipeline, whichever way a request came in (node-sink.ts for serve(),
 * web-sink.ts for server.fetch): the Host and media type checks, preflights, the route table, the
 * token and shutdown gate, 404/405, idempotency keys, the debugger's files, every body's forbidden
 * keys, handler records shaped in the request's wire dialect, every error as JSON, CORS, nosniff, and
 * `Connection: close` while shutting down. It answers with data; the sinks only write it.
 */
export function answerRequest(ctx: ServerContext, request: HttpRequest): Promise<WireAnswer> {
  const tracing = ctx.tracing();
  if (tracing === null) return answerUntraced(ctx, request);
  return tracing.request(request, ctx.basePath, () => answerUntraced(ctx, request));
}

async function answerUntraced(ctx: ServerContext, request: HttpRequest): Promise<WireAnswer> {
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

/** An answer once its records are shaped. */
type ShapedAnswer = Exclude<Answer, RecordAnswer>;

async function route(ctx: ServerContext, given: HttpRequest): Promise<ShapedAnswer> {
  guardRequest(ctx, given);
  const inside = insideBase(ctx.basePath, given.path);
  if (inside === null) return outsideBase(ctx.basePath, given);
  const request = routedRequest(ctx, given, inside.path);
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
    // `keyed` is `request` with its body read once (and the key's ticket): its dialect comes along.
    const answer = await answerKeyed(ctx, request, match.id, (keyed) =>
      handle(ctx, keyed as RoutedRequest, match.params),
    );
    return answer.kind === "record" ? shapeAnswer(ctx, request.wire(), answer) : answer;
  }
  const methods = allowedMethods(path);
  if (methods && !methods.includes(method)) {
    return json(
      { detail: `Method ${method} not allowed on ${given.path}`, code: "METHOD_NOT_ALLOWED" },
      405,
      {
        allow: methods.join(", "),
      },
    );
  }
  if (!api && (method === "GET" || method === "HEAD")) {
    const file = await serveUiFile(
      await ctx.uiDir(),
      path,
      method === "HEAD",
      request.header("accept-encoding") ?? null,
      inside.baseHref,
    );
    if (file) return file;
  }
  return json({ detail: `No route for ${method} ${given.path}`, code: "NOT_FOUND" }, 404);
}

/** A path outside the server's base path: 404, saying where the server is and what it must be given. */
function outsideBase(base: string, request: HttpRequest): ShapedAnswer {
  return json(
    {
      detail: `No route for ${request.method} ${request.path}: this server answers under ${base} and must be given each request with its whole path, not with the mount path taken off`,
      code: "NOT_FOUND",
    },
    404,
  );
}

/**
 * The request as the routes see it: its path below the base path, its body checked whole once
 * parsed (its media type and its keys), its wire dialect read from its header when first asked.
 */
function routedRequest(ctx: ServerContext, request: HttpRequest, path: string): RoutedRequest {
  let wire: WireDialect | undefined;
  const routed: RoutedRequest = {
    method: request.method,
    path,
    query: request.query,
    header: request.header,
    readJson: (limit) =>
      request.readJson(limit).then((body) => {
        refuseUntypedBody(request, body);
        refuseForbiddenKeys(body);
        return body;
      }),
    wire: () => {
      wire ??= requestWire(ctx, routed);
      return wire;
    },
  };
  return routed;
}

/** A JSON answer serialized; the others as they are. */
function toWire(answer: ShapedAnswer): WireAnswer {
  if (answer.kind === "bytes" || answer.kind === "stream") return answer;
  const headers = { "content-type": JSON_CONTENT_TYPE, ...answer.headers };
  return { kind: "bytes", status: answer.status, body: JSON.stringify(answer.body), headers };
}
