import type { Clock } from "../core/index.js";
import type { WireDialect } from "../protocol/index.js";
import type { Store } from "../stores/store.js";
import type { ServerLogger } from "./logger.js";
import type { RetentionOptions } from "./retention/index.js";

/**
 * The server's options. All of them hold wherever the server is reached (`serve()`, `server.fetch`,
 * `server.nodeHandler`) except `requestTimeoutMs`, which bounds serve()'s own HTTP server.
 */
export interface WorkflowServerOptions {
  /** Where handlers, events and run states are kept. Default: SQLite at `WORKFLOWS_DB`, else `.workflows/workflows.db`. */
  store?: Store;
  /** Bearer token every route but /health and the UI requires. Default: `WORKFLOWS_SERVER_TOKEN`, else none. */
  token?: string;
  /**
   * Origins a browser page may call the API from (`*`: any). Default `WORKFLOWS_CORS_ORIGINS`
   * (comma-separated), else none: only the server's own pages (the debugger).
   */
  corsOrigins?: string | string[];
  /**
   * Host names the server answers to besides `localhost`, `*.localhost` and IP literals, which are
   * always accepted (`*`: any); another `Host` gets 403 `HOST_NOT_ALLOWED` (DNS rebinding).
   * Default `WORKFLOWS_ALLOWED_HOSTS` (comma-separated), else none.
   */
  allowedHosts?: string[];
  /**
   * Whether run requests may carry a serialized `context` (a run state made by a client). It is
   * validated against the workflow's schemas and cannot lift its deadline. Default false: 400
   * `CONTEXT_NOT_ACCEPTED`.
   */
  acceptContext?: boolean;
  /**
   * The wire dialect of requests that do not choose one with `X-Workflows-Wire`: `seed` (the HTTP
   * API of docs/HTTP-API.md) or `llama-agents` (the shapes LlamaIndex's own clients expect). Default
   * `WORKFLOWS_WIRE`, else `seed`.
   */
  wire?: WireDialect;
  /**
   * The path the server is reached under when it is mounted in another app (`"/api/workflows"`):
   * it answers only paths under it (the API at `/api/workflows/workflows`, …; the debugger at
   * `/api/workflows/` and `/api/workflows`), and it must be given each request with its whole path
   * (docs/EMBEDDING.md). Default: none, the server owns the root.
   */
  basePath?: string;
  /** Largest accepted request body. Default 1 MiB. */
  bodyLimitBytes?: number;
  /** A run waiting for outside input this long is dropped from memory (it stays in the store). Default 60 000. */
  idleReleaseMs?: number;
  /** Default: silent. */
  logger?: ServerLogger;
  clock?: Clock;
  /** The debugger's build. Default: `dist/ui` of the package, else the repository's `packages/ui/dist`. */
  uiDir?: string;
  /** How often an idle SSE stream carries a `: ping` comment. Default 15 000. */
  pingIntervalMs?: number;
  /**
   * How long a client may take to send a whole request (headers and body); a slower one is cut off
   * (408). Event streams are responses and are not limited by it. Default 60 000. Only for
   * `serve()`: mounted in another app, that app's HTTP server sets its own timeouts.
   */
  requestTimeoutMs?: number;
  /**
   * With a store shared by several processes (Postgres): how long a handler's lease lives without
   * renewal. A dead process's handlers run elsewhere after about 1.5 × this. Default
   * `WORKFLOWS_LEASE_TTL_MS`, else 10 000.
   */
  leaseTtlMs?: number;
  /**
   * How many times a stored run is resumed without finishing a step (each resume that took the
   * process down counts) before it is failed with `RESUME_CRASH_LOOP` instead. Default 3.
   */
  maxResumeAttempts?: number;
  /**
   * For debugging: each step's end (its `StepStateChanged` idle event) also carries the run's state
   * as it stood then (`run_state`), so that the debugger can fork a run from any step's end
   * (`POST /handlers/{id}/fork` with that event's `from_sequence`). Costs one state serialization
   * and a state's bytes in the log per step end. Default false.
   */
  keepStepStates?: boolean;
  /**
   * How long an `Idempotency-Key` is remembered: a retry with it within this time gets the first
   * answer again. Older keys are deleted in the background. Default 86 400 000 (24 hours).
   */
  idempotencyTtlMs?: number;
  /**
   * The largest event a step may return, send with `ctx.sendEvent`, write to the stream, or make
   * its result (bytes of its data's JSON): a larger one fails the step with `EVENT_TOO_LARGE`, never
   * retried. Default 1 MiB; `Infinity` lifts it.
   */
  maxEventBytes?: number;
  /**
   * Deletes ended handlers, and everything stored for them, this long after they ended, in the
   * background, and gives the space back (SQLite: incremental vacuum). Nothing running or blocked is
   * deleted. Default `WORKFLOWS_RETENTION` (`7d`, or `completed=7d,failed=30d,cancelled=1d`), else
   * none: everything is kept.
   */
  retention?: RetentionOptions;
  /**
   * OpenTelemetry traces (README "Observability"): a span per request, per run (`workflow.run`) and
   * per step execution (`workflow.step`), one trace per run across restarts and takeovers. Unset:
   * on when an OpenTelemetry SDK is registered (the server uses it) or `OTEL_EXPORTER_OTLP_ENDPOINT`
   * (or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`) is set (the server starts its own OTLP/HTTP exporter);
   * `false` never, `true` always. Off, nothing of OpenTelemetry is loaded.
   */
  tracing?: boolean;
}

export interface ServeOptions {
  /** Default `0.0.0.0`. */
  host?: string;
  /** Default 8080; 0 picks a free port. */
  port?: number;
  /**
   * Where the server logs from now on when it was created without a `logger` (the `eventloom` CLI
   * passes its stderr logger; serve()'s own warnings go there too); ignored for the server's log when
   * it was created with one.
   */
  logger?: ServerLogger;
}

export interface ServeInfo {
  host: string;
  port: number;
  /** Where the server answers, its `basePath` included (`http://127.0.0.1:8080/api/workflows`). */
  url: string;
}
