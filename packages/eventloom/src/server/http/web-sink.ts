import type { ServerContext } from "../server-context.js";
import { feedToWebStream } from "./feed-writers.js";
import { answerRequest } from "./pipeline.js";
import { readJsonBody } from "./read-json-body.js";
import { fromUrl } from "./request-target.js";

/**
 * `server.fetch`, the web-standard handler: a web Request in, the pipeline's answer as a web
 * Response (an event stream as a web stream of bytes).
 */
export async function answerFetch(ctx: ServerContext, request: Request): Promise<Response> {
  const { path, query } = fromUrl(request.url);
  // A Request made in code may have no Host header: its URL's host is the one it was sent to.
  const urlHost = () => new URL(request.url).host;
  const answer = await answerRequest(ctx, {
    method: request.method,
    path,
    query,
    header: (name) => request.headers.get(name) ?? (name === "host" ? urlHost() : undefined),
    readJson: (limit) => readJsonBody(request, limit),
  });
  if (answer.kind === "stream") {
    const stream = feedToWebStream(answer.open(() => ctx.streams.delete(stream)));
    ctx.streams.add(stream);
    return new Response(stream.body, { status: answer.status, headers: answer.headers });
  }
  // A UI file is a Buffer of its own ArrayBuffer, never a shared one.
  const body = answer.body as string | Uint8Array<ArrayBuffer> | null;
  return new Response(body, { status: answer.status, headers: answer.headers });
}
