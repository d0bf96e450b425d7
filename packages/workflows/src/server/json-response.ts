import { errorBody, statusOf } from "../protocol/index.js";
import type { ServerLogger } from "./logger.js";

/** A JSON answer. */
export const json = (body: unknown, status = 200, headers: Record<string, string> = {}): Response =>
  new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json; charset=utf-8", ...headers },
  });

/** The answer to any thrown error: `{detail, code, issues?}` with its code's status; internals never leak. */
export function errorResponse(error: unknown, logger: ServerLogger): Response {
  const status = statusOf(error);
  if (status >= 500 && status !== 503) logger.error("request failed", { error });
  return json(errorBody(error), status);
}
