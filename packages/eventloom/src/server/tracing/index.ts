export { loadTracing, type TracingOption, tracingWanted, userTracerRegistered } from "./load-tracing.js";
export type { RunTracer, ServerTracing } from "./tracing-types.js";
