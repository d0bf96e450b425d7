import type { WireDialect } from "../../protocol/index.js";
import type { OperationId } from "../../protocol/routes.js";
import type { ServerContext } from "../server-context.js";
import type { Answer } from "./answer.js";
import type { HttpRequest } from "./http-request.js";

/** A request the pipeline routed. */
export interface RoutedRequest extends HttpRequest {
  /**
   * The wire dialect it is answered in (read from its header on first call).
   * @throws WorkflowError `INVALID_HEADER` for an `X-Workflows-Wire` that names no dialect.
   */
  wire(): WireDialect;
}

/** What answers one route, once the pipeline matched it and let it through the gate. */
export type RouteHandler = (
  ctx: ServerContext,
  request: RoutedRequest,
  params: Record<string, string>,
) => Answer | Promise<Answer>;

/** The handlers of some routes of protocol/routes.ts. */
export type RouteHandlers<Id extends OperationId> = Record<Id, RouteHandler>;
