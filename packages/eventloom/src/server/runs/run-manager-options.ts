import type { Clock } from "../../core/clock.js";
import type { RunOptions } from "../../core/handler.js";
import type { EventRow, Store } from "../../stores/store.js";
import type { Ownership } from "../cluster/ownership.js";
import type { ServerLogger } from "../logger.js";
import type { ServerMetrics } from "../metrics/index.js";
import type { RegisteredWorkflow, WorkflowRegistry } from "../registry.js";
import type { ServerTracing } from "../tracing/index.js";
import type { CommitWriter } from "./commit-writer.js";
import { LiveRun } from "./live-run.js";

export interface RunManagerOptions {
  store: Store;
  writer: CommitWriter;
  registry: WorkflowRegistry;
  clock: Clock;
  /** A run idle this long is suspended and dropped from memory; Infinity never. */
  idleReleaseMs: number;
  logger: ServerLogger;
  /** Called when a handler is deleted, so that its readers stop. */
  onDeleted(handlerId: string): void;
  /** Which handlers this process may run: all of them (solo), or those it leases on a shared store. */
  ownership: Ownership;
  /** Resumes without a finished step after which a run is failed with RESUME_CRASH_LOOP. */
  maxResumeAttempts: number;
  /** Each step's end carries the run's state then (`run_state`): forks from any step's end. */
  keepStepStates?: boolean;
  /** Counts runs started here and observes every run in memory; none: not measured. */
  metrics?: ServerMetrics;
  /** The largest event a step may return, send or stream (bytes of JSON): larger fails it, EVENT_TOO_LARGE. */
  maxEventBytes: number | null;
  /** Traces every run in memory (OpenTelemetry); none: not traced. */
  tracing?: ServerTracing | null;
}

/**
 * What every run of a process is started or resumed with, added to `own` (a new object the caller
 * made for this run, with what this run is) and returned: no copy of it is made.
 */
export function runOptions(
  o: RunManagerOptions,
  entry: RegisteredWorkflow,
  journal: LiveRun,
  own: RunOptions,
): RunOptions {
  own.journal = journal;
  own.keepHistory = false;
  own.additionalEvents = entry.additionalEvents;
  own.clock = o.clock;
  own.maxEventBytes = o.maxEventBytes;
  return own;
}

/** A run of this process in memory, observed and traced as the options say. */
export function newLiveRun(
  o: RunManagerOptions,
  handlerId: string,
  entry: RegisteredWorkflow,
  onChange: (run: LiveRun, published: readonly EventRow[]) => void,
): LiveRun {
  const { clock, metrics, logger, tracing, keepStepStates } = o;
  const forRun = metrics?.forRun(entry.name) ?? null;
  return new LiveRun(
    handlerId,
    entry,
    clock,
    onChange,
    forRun,
    logger,
    tracing?.forRun(entry.name, handlerId),
    keepStepStates,
  );
}
