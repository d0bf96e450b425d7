import type { Clock } from "../core/index.js";
import type { WireDialect } from "../protocol/index.js";
import type { Store } from "../stores/store.js";
import type { OpenStream } from "./event-stream.js";
import type { KeyGate } from "./idempotency/key-gate.js";
import type { ServerLogger } from "./logger.js";
import type { ServerMetrics } from "./metrics/index.js";
import type { WorkflowRegistry } from "./registry.js";
import type { CommitWriter } from "./runs/commit-writer.js";
import type { HandlerSignals } from "./runs/handler-signals.js";
import type { RecentEvents } from "./runs/recent-events.js";
import type { RunManager } from "./runs/run-manager.js";
import type { Scheduler } from "./schedules/scheduler.js";
import type { ServerTracing } from "./tracing/index.js";

/** What the routes need from the server, once it is initialized. */
export interface Runtime {
  store: Store;
  manager: RunManager;
  writer: CommitWriter;
  signals: HandlerSignals;
  recent: RecentEvents;
  /** Every server timer runs on it (the `clock` option). */
  clock: Clock;
  /** This process's counters and histograms, for GET /metrics. */
  metrics: ServerMetrics;
  /** The schedules' timer and claims (GET /schedules reads their next fire times). */
  scheduler: Scheduler;
}

/** Everything the HTTP app is built from. */
export interface ServerContext {
  registry: WorkflowRegistry;
  logger: ServerLogger;
  bodyLimitBytes: number;
  /** Null: no authentication. */
  checkToken: ((authorization: string | null | undefined) => boolean) | null;
  /** Origins a browser page may call the API from: none by default. */
  corsOrigins: string | string[];
  /** Host names accepted besides localhost and IP literals (`*`: any). */
  allowedHosts: string[];
  /** The idempotency keys of the requests this process executes now. */
  keys: KeyGate;
  /** Whether run requests may carry a serialized `context`. */
  acceptContext: boolean;
  pingIntervalMs: number;
  /** The dialect of requests that do not choose one (`X-Workflows-Wire`). */
  wire: WireDialect;
  /** Stream heartbeats run on it. */
  clock: Clock;
  pageSize: number;
  /** The `basePath` option, canonical: `""` for none, else `/a/b`. */
  basePath: string;
  /** Initializes once (store, resume) and gives the runtime; rejects while closing. */
  runtime(): Promise<Runtime>;
  /** The runtime when it is initialized and the server is not closing, else null (then: `runtime()`). */
  readyRuntime(): Runtime | null;
  /** "starting" until the first init finished, "closing" once close() began. */
  phase(): "starting" | "ready" | "closing" | "failed";
  streams: Set<OpenStream>;
  uiDir(): Promise<string | null>;
  /** The server's tracing once it is initialized, when on; null otherwise. */
  tracing(): ServerTracing | null;
}
