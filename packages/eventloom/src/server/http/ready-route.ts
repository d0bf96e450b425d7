import { WorkflowError } from "../../core/index.js";
import type { ServerContext } from "../server-context.js";
import { type Answer, errorAnswer, json } from "./answer.js";
import type { HttpRequest } from "./http-request.js";
import type { RouteHandlers } from "./route-handler.js";

/**
 * GET /ready: 200 when the store takes writes now (its last commit did not fail and its own probe,
 * `Store.ready`, passes), else 503 with the reason. Open like /health, for probes that carry no
 * token; without the token, the reason is not told (it names the store's file or host).
 */
async function ready(ctx: ServerContext, request: HttpRequest): Promise<Answer> {
  try {
    if (ctx.phase() === "closing") throw new WorkflowError("SERVER_CLOSING", "The server is shutting down");
    const { store, writer } = await ctx.runtime();
    const failure = writer.failure;
    if (failure !== null) throw unavailable(failure, "its last commit failed");
    await store.ready?.().catch((error: unknown) => {
      throw unavailable(error, "its readiness probe failed");
    });
    return json({ status: "ready" });
  } catch (error) {
    const answer = errorAnswer(error, ctx.logger);
    const told = ctx.checkToken === null || ctx.checkToken(request.header("authorization"));
    if (!told)
      answer.body = { detail: "The server is not ready", code: (answer.body as { code: string }).code };
    return answer;
  }
}

/** A coded 503 stays as it is; anything else becomes STORE_UNAVAILABLE saying what failed. */
function unavailable(error: unknown, what: string): unknown {
  const code = (error as { code?: unknown } | null)?.code;
  if (error instanceof WorkflowError && (code === "STORE_UNAVAILABLE" || code === "SERVER_CLOSING"))
    return error;
  return new WorkflowError("STORE_UNAVAILABLE", `The store does not take writes: ${what}`, { cause: error });
}

/** /ready. */
export const readyHandlers: RouteHandlers<"getReady"> = {
  getReady: (ctx, request) => ready(ctx, request),
};
