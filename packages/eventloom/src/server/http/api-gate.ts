import { WorkflowError } from "../../core/index.js";
import type { ServerContext } from "../server-context.js";
import type { JsonAnswer } from "./answer.js";

/**
 * What every API route checks first: the bearer token (401 when it is wrong or missing), then that
 * the server is not shutting down. Null: go on.
 *
 * @throws WorkflowError `SERVER_CLOSING` (503) once close() began.
 */
export function apiGate(ctx: ServerContext, authorization: string | undefined): JsonAnswer | null {
  if (ctx.checkToken && !ctx.checkToken(authorization)) {
    return {
      status: 401,
      body: { detail: "Missing or invalid bearer token", code: "UNAUTHORIZED" },
      headers: { "www-authenticate": 'Bearer realm="eventloom"' },
    };
  }
  if (ctx.phase() === "closing") throw new WorkflowError("SERVER_CLOSING", "The server is shutting down");
  return null;
}
