import type { OperationId } from "../../protocol/routes.js";
import type { ServerContext } from "../server-context.js";
import type { Answer } from "./answer.js";
import type { HttpRequest } from "./http-request.js";

/** What answers one route, once the pipeline matched it and let it through the gate. */
export type RouteHandler = (
  ctx: ServerContext,
  request: HttpRequest,
  params: Record<string, string>,
) => Answer | Promise<Answer>;

/** The handlers of some routes of protocol/routes.ts. */
export type RouteHandlers<Id extends OperationId> = Record<Id, RouteHandler>;
