import type { WorkflowEvent } from "../../core/index.js";
import { errorBody, type HandlerInfo, statusOf } from "../../protocol/index.js";
import type { EventFeed } from "../event-stream.js";
import type { ServerLogger } from "../logger.js";

export const JSON_CONTENT_TYPE = "application/json; charset=utf-8";

/** Header names in lower case. */
export type Headers = Record<string, string>;

/** What a route answers, as data. */
export type Answer = JsonAnswer | BytesAnswer | StreamAnswer | RecordAnswer;

/**
 * What the pipeline answers, JSON already serialized: a sink (node-sink.ts, web-sink.ts) only
 * translates it into node's response or a web Response.
 */
export type WireAnswer = BytesAnswer | StreamAnswer;

/** A JSON value, serialized by the sink. */
export interface JsonAnswer {
  kind?: "json";
  status: number;
  body: unknown;
  headers?: Headers;
}

/** A body already in its final form (a UI file, the cached OpenAPI text), or none (204, HEAD). */
export interface BytesAnswer {
  kind: "bytes";
  status: number;
  body: string | Uint8Array | null;
  headers: Headers;
}

/** An event stream: 200 with `headers`, then the feed's pages. */
export interface StreamAnswer {
  kind: "stream";
  status: 200;
  headers: Headers;
  /** Opens the feed; `onEnd` is called once when it ends, whatever the reason. */
  open(onEnd: () => void): EventFeed;
}

/**
 * Handler records whose JSON depends on the request's wire dialect: the pipeline shapes them
 * (wire-shapes.ts) once the route answered, for every route alike.
 * - `run`: the record of an ended run (`status` 200 or 500), with the event that ended it when the
 *   route has it in memory;
 * - `started`: run-nowait's record; `lookup`: GET /handlers/{id}; `result`: GET /results/{id};
 * - `list`: GET /handlers, a page (or, unpaged, every handler) with the next page's cursor.
 */
export type RecordAnswer =
  | { kind: "record"; of: "run"; status: number; record: HandlerInfo; stopEvent: WorkflowEvent | null }
  | { kind: "record"; of: "started" | "lookup" | "result"; record: HandlerInfo }
  | { kind: "record"; of: "list"; records: HandlerInfo[]; nextCursor: string | null };

/** A JSON answer. */
export const json = (body: unknown, status = 200, headers?: Headers): JsonAnswer =>
  headers ? { status, body, headers } : { status, body };

/** An answer without a body. */
export const empty = (status: number): BytesAnswer => ({ kind: "bytes", status, body: null, headers: {} });

/**
 * Seconds a client is asked to wait before retrying a request the store refused. The commit writer
 * retries a failed batch after 1 s, so after 2 s at least one retry has told whether the store is back.
 */
export const STORE_RETRY_AFTER_SECONDS = 2;

/**
 * The answer to any thrown error: `{detail, code, issues?}` with its code's status; internals never
 * leak. A store that refuses writes (503 STORE_UNAVAILABLE) says when to try again (`Retry-After`).
 */
export function errorAnswer(error: unknown, logger: ServerLogger): JsonAnswer {
  const status = statusOf(error);
  const body = errorBody(error);
  if (status >= 500 && status !== 503) logger.error("internal error", { error });
  if (body.code === "STORE_UNAVAILABLE" || body.code === "LEASE_LOST")
    return { status, body, headers: { "retry-after": String(STORE_RETRY_AFTER_SECONDS) } };
  return { status, body };
}
