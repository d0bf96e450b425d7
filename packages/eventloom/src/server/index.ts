export * from "../stores/index.js";
export type { ConcurrencyOptions } from "./concurrency.js";
export type { ServerLogger } from "./logger.js";
export type { AddWorkflowOptions } from "./registry.js";
export type { ScheduleOptions } from "./schedules/schedule.js";
export {
  isWorkflowServer,
  type NodeHandler,
  type ServeInfo,
  type ServeOptions,
  WORKFLOW_SERVER_BRAND,
  WorkflowServer,
  type WorkflowServerOptions,
} from "./workflow-server.js";
