import type { IncomingMessage, RequestListener, ServerResponse } from "node:http";
import { apiGate } from "./api-gate.js";
import { setCorsHeaders } from "./cors.js";
import { type PreparedStream, prepareEventStream } from "./event-routes.js";
import { type OpenStream, pipeFeedToNode } from "./event-stream.js";
import { errorAnswer, JSON_CONTENT_TYPE, type JsonAnswer } from "./json-response.js";
import { readNodeJsonBody } from "./read-json-body.js";
import type { ServerContext } from "./server-context.js";
import { startRun } from "./workflow-routes.js";

/**
 * `POST /workflows/{name}/run` and `run-nowait`, with the path exactly as hono's routes match it (no
 * trailing slash; a query is ignored). A name with `%` in it is left to hono, which decodes it.
 */
const RUN_PATH = /^\/workflows\/([^/?%]+)\/(run|run-nowait)(?:\?.*)?$/;

/** `GET /events/{id}`, likewise; the query is kept. */
const EVENTS_PATH = /^\/events\/([^/?%]+)(?:\?(.*))?$/;

/**
 * The node request listener of `serve()`: the hot paths, starting a run and streaming a handler's
 * events, are answered here directly; everything else goes to the hono app (`fallback`). Through
 * hono, a trivial run spends about a third of its time building and reading the web Request and
 * Response, and a stream goes through a web stream and a TextEncoder; here they read node's request
 * and write node's response. The answers are the same as the app's
 * (test/server/node-listener.test.ts compares them): CORS, the token, shutdown, the body limit, and
 * every error.
 */
export function nodeListener(ctx: ServerContext, fallback: RequestListener): RequestListener {
  return (request, response) => {
    if (request.method === "POST") {
      const match = RUN_PATH.exec(request.url ?? "");
      if (match) {
        void answerRun(ctx, request, response, match[1] as string, match[2] === "run");
        return;
      }
    } else if (request.method === "GET") {
      const match = EVENTS_PATH.exec(request.url ?? "");
      if (match) {
        void answerEvents(ctx, request, response, match[1] as string, match[2] ?? "");
        return;
      }
    }
    fallback(request, response);
  };
}

async function answerRun(
  ctx: ServerContext,
  request: IncomingMessage,
  response: ServerResponse,
  name: string,
  wait: boolean,
): Promise<void> {
  let answer: JsonAnswer;
  try {
    setCorsHeaders(ctx.corsOrigins, request.headers.origin, response);
    answer =
      apiGate(ctx, request.headers.authorization) ??
      (await startRun(ctx, name, wait, () =>
        readNodeJsonBody(
          { incoming: request, outgoing: response },
          request.headers["content-length"],
          ctx.bodyLimitBytes,
        ),
      ));
  } catch (error) {
    answer = errorAnswer(error, ctx.logger);
  }
  writeJson(ctx, response, answer);
}

async function answerEvents(
  ctx: ServerContext,
  request: IncomingMessage,
  response: ServerResponse,
  handlerId: string,
  query: string,
): Promise<void> {
  let prepared: PreparedStream | null;
  try {
    setCorsHeaders(ctx.corsOrigins, request.headers.origin, response);
    const denied = apiGate(ctx, request.headers.authorization);
    if (denied) return writeJson(ctx, response, denied);
    const lastEventId = request.headers["last-event-id"];
    prepared = await prepareEventStream(
      ctx,
      handlerId,
      new URLSearchParams(query),
      Array.isArray(lastEventId) ? lastEventId.join(", ") : lastEventId,
    );
  } catch (error) {
    return writeJson(ctx, response, errorAnswer(error, ctx.logger));
  }
  if (ctx.phase() === "closing") response.setHeader("connection", "close");
  if (!prepared) {
    response.writeHead(204);
    response.end();
    return;
  }
  response.writeHead(200, prepared.headers);
  response.flushHeaders();
  const stream: OpenStream = {
    end() {
      feed.end();
      if (!response.writableEnded) response.end();
    },
  };
  const feed = prepared.open(() => ctx.streams.delete(stream));
  ctx.streams.add(stream);
  await pipeFeedToNode(feed, response);
}

function writeJson(ctx: ServerContext, response: ServerResponse, answer: JsonAnswer): void {
  // While shutting down, every answer closes its connection so that close() need not wait on keep-alive.
  if (ctx.phase() === "closing") response.setHeader("connection", "close");
  const text = JSON.stringify(answer.body);
  response.writeHead(answer.status, {
    "content-type": JSON_CONTENT_TYPE,
    "content-length": Buffer.byteLength(text),
    ...answer.headers,
  });
  response.end(text);
}
