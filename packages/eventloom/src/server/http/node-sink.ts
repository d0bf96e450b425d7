import type { IncomingMessage, RequestListener, ServerResponse } from "node:http";
import type { OpenStream } from "../event-stream.js";
import type { ServerContext } from "../server-context.js";
import type { StreamAnswer, WireAnswer } from "./answer.js";
import { insideBase } from "./base-path.js";
import { pipeFeedToNode } from "./feed-writers.js";
import type { HttpRequest } from "./http-request.js";
import { answerRequest } from "./pipeline.js";
import { readNodeJsonBody } from "./read-json-body.js";
import { requestTarget } from "./request-target.js";

/**
 * A node request handler in the style of Express and Connect middleware: `next`, when given, is
 * called for a request outside the server's base path instead of answering it 404.
 */
export type NodeHandler = (
  request: IncomingMessage,
  response: ServerResponse,
  next?: (error?: unknown) => void,
) => void;

/** A request as Express and Connect give it when they mount a handler under a path: its URL cut. */
interface MountedRequest extends IncomingMessage {
  originalUrl?: string;
}

/**
 * The node request listener of `serve()`, and `server.nodeHandler`: node's request in, the
 * pipeline's answer written to node's response. No web Request or Response in between: building and
 * reading them cost about a third of a trivial run (decision 0005), and a stream writes its pages to
 * the socket as strings.
 */
export function nodeListener(ctx: ServerContext): NodeHandler & RequestListener {
  return (incoming, outgoing, next?: (error?: unknown) => void) => {
    try {
      serve(ctx, incoming, outgoing, next);
    } catch {
      // The pipeline answers every error itself; this is for the socket failing under the writes.
      outgoing.destroy();
    }
  };
}

/** Not async: one promise per request (the pipeline's answer), not three. */
function serve(
  ctx: ServerContext,
  incoming: MountedRequest,
  outgoing: ServerResponse,
  next: ((error?: unknown) => void) | undefined,
): void {
  // Under a base path the whole path counts, also where Express cut its mount path off `url`.
  const url = ctx.basePath === "" ? incoming.url : (incoming.originalUrl ?? incoming.url);
  const target = requestTarget(url ?? "", incoming.headers.host);
  if (target === null) {
    // No URL can be made of the request line and Host: a bare 400, as before any route is looked at.
    outgoing.writeHead(400);
    outgoing.end();
    return;
  }
  if (next && insideBase(ctx.basePath, target.path) === null) {
    next();
    return;
  }
  const request: HttpRequest = {
    method: incoming.method ?? "GET",
    path: target.path,
    query: target.query,
    header(name) {
      const value = incoming.headers[name];
      return Array.isArray(value) ? value.join(", ") : value;
    },
    readJson: (limit) => readNodeJsonBody({ incoming, outgoing }, incoming.headers["content-length"], limit),
  };
  answerRequest(ctx, request).then(
    (answer) => {
      try {
        write(ctx, outgoing, answer);
      } catch {
        outgoing.destroy();
      }
    },
    () => outgoing.destroy(),
  );
}

function write(ctx: ServerContext, outgoing: ServerResponse, answer: WireAnswer): void {
  if (answer.kind === "stream") {
    void writeStream(ctx, outgoing, answer);
    return;
  }
  const { body } = answer;
  if (body === null) {
    outgoing.writeHead(answer.status, answer.headers);
    outgoing.end();
    return;
  }
  // The answer's headers are this answer's own (the pipeline built them for it).
  answer.headers["content-length"] = String(
    typeof body === "string" ? Buffer.byteLength(body) : body.byteLength,
  );
  outgoing.writeHead(answer.status, answer.headers);
  outgoing.end(body);
}

async function writeStream(
  ctx: ServerContext,
  outgoing: ServerResponse,
  answer: StreamAnswer,
): Promise<void> {
  outgoing.writeHead(answer.status, answer.headers);
  outgoing.flushHeaders();
  const stream: OpenStream = {
    end() {
      feed.end();
      if (!outgoing.writableEnded) outgoing.end();
    },
  };
  const feed = answer.open(() => ctx.streams.delete(stream));
  ctx.streams.add(stream);
  await pipeFeedToNode(feed, outgoing);
}
