import type { OperationId } from "../../protocol/routes.js";
import { eventHandlers } from "./event-routes.js";
import { forkHandlers } from "./fork-route.js";
import { handlerHandlers } from "./handler-routes.js";
import { metricsHandlers } from "./metrics-routes.js";
import { readyHandlers } from "./ready-route.js";
import type { RouteHandlers } from "./route-handler.js";
import { scheduleHandlers } from "./schedule-routes.js";
import { workflowHandlers } from "./workflow-routes.js";

/**
 * Every route's handler, by its operation id in protocol/routes.ts: the type requires one for each
 * route of the table.
 */
export const ROUTE_HANDLERS: RouteHandlers<OperationId> = {
  ...workflowHandlers,
  ...handlerHandlers,
  ...forkHandlers,
  ...eventHandlers,
  ...metricsHandlers,
  ...readyHandlers,
  ...scheduleHandlers,
};
