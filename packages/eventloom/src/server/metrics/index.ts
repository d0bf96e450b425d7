export { PROMETHEUS_CONTENT_TYPE } from "./exposition.js";
export type { RunMetrics, StepOutcome } from "./run-metrics.js";
export { type MetricsView, ServerMetrics } from "./server-metrics.js";
