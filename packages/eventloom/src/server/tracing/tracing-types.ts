import type { StepFailure } from "../../core/engine-types.js";
import type { PublishedEvent, QueuedItem, RunState } from "../../core/index.js";
import type { RunEngine } from "../../core/run-engine.js";
import type { HttpRequest } from "../http/http-request.js";

/**
 * The server's tracing when it is on (OpenTelemetry, loaded by load-tracing.ts). Off, the server holds
 * null and nothing of OpenTelemetry is imported.
 */
export interface ServerTracing {
  /** Answers one HTTP request inside its span (a child of the request's `traceparent`, if any). */
  request<T extends { status: number }>(
    request: HttpRequest,
    basePath: string,
    answer: () => Promise<T>,
  ): Promise<T>;
  /**
   * Links the current request's span to the trace of a run this process does not hold (its event went
   * to the owner's inbox), read from the run's stored state.
   */
  linkStoredRun(handlerId: string, load: () => Promise<RunState | null>): Promise<void>;
  /** The tracer of one run held in memory: its journal feeds it. */
  forRun(workflow: string, handlerId: string): RunTracer;
  /** Flushes and stops the SDK the server started itself; a user's own SDK is left alone. */
  shutdown(): Promise<void>;
}

/** What a run's journal tells its tracer (see run-trace.ts). */
export interface RunTracer {
  /** Every change of the run, as the journal gets it, before it is committed. */
  changed(engine: RunEngine, published: readonly PublishedEvent[]): void;
  /** An attempt threw (called just before the change that publishes its end). */
  stepFailed(failure: StepFailure): void;
  /** Runs one step execution inside its span. */
  aroundStep(item: QueuedItem, call: () => unknown): unknown;
}
