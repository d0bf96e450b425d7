import { errorBody, statusOf } from "../protocol/index.js";
import type { ServerLogger } from "./logger.js";

export const JSON_CONTENT_TYPE = "application/json; charset=utf-8";

/** A JSON answer before it becomes a Response (or is written to node's response directly). */
export interface JsonAnswer {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

/** A JSON answer. */
export const json = (body: unknown, status = 200, headers: Record<string, string> = {}): Response =>
  new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": JSON_CONTENT_TYPE, ...headers },
  });

/** The answer to any thrown error: `{detail, code, issues?}` with its code's status; internals never leak. */
export function errorResponse(error: unknown, logger: ServerLogger): Response {
  const answer = errorAnswer(error, logger);
  return json(answer.body, answer.status);
}

/** `errorResponse` before it becomes a Response. */
export function errorAnswer(error: unknown, logger: ServerLogger): JsonAnswer {
  const status = statusOf(error);
  if (status >= 500 && status !== 503) logger.error("request failed", { error });
  return { status, body: errorBody(error) };
}
