import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { type AnyWorkflow, type Clock, systemClock, WorkflowError } from "../core/index.js";
import type { Store } from "../stores/store.js";
import { background } from "./clock-timers.js";
import { type Ownership, ownershipFor } from "./cluster/index.js";
import { createDefaultStore } from "./default-store.js";
import type { OpenStream } from "./event-stream.js";
import { makeBearerCheck } from "./http/bearer-auth.js";
import { nodeListener } from "./http/node-sink.js";
import { defaultUiDir } from "./http/static-ui.js";
import { answerFetch } from "./http/web-sink.js";
import { KeyGate } from "./idempotency/key-gate.js";
import { KeySweeper } from "./idempotency/key-sweeper.js";
import { type ServerLogger, silentLogger } from "./logger.js";
import { ServerMetrics } from "./metrics/index.js";
import { type AddWorkflowOptions, WorkflowRegistry } from "./registry.js";
import { CommitWriter } from "./runs/commit-writer.js";
import { HandlerSignals } from "./runs/handler-signals.js";
import { RecentEvents } from "./runs/recent-events.js";
import { RunManager } from "./runs/run-manager.js";
import type { Runtime, ServerContext } from "./server-context.js";

/** Lets the CLI recognise a server created by another copy of this module. */
export const WORKFLOW_SERVER_BRAND: unique symbol = Symbol.for("eventloom.WorkflowServer") as never;

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
   * (408). Event streams are responses and are not limited by it. Default 60 000.
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
   * How long an `Idempotency-Key` is remembered: a retry with it within this time gets the first
   * answer again. Older keys are deleted in the background. Default 86 400 000 (24 hours).
   */
  idempotencyTtlMs?: number;
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
  url: string;
}

/** Events kept in memory for a handler a stream reads: one page to a page and a half of a stream's reads. */
const RECENT_EVENTS_PER_HANDLER = 1000;

type Phase = "starting" | "ready" | "closing" | "failed";

/**
 * Serves workflows over HTTP: runs them durably in its store, streams their events, and mounts the
 * debugger UI at `/`.
 *
 * @example
 * const server = new WorkflowServer({ store: new SqliteStore(".workflows/workflows.db") });
 * server.addWorkflow("greet", greeting);
 * const { url } = await server.serve({ host: "127.0.0.1", port: 8080 });
 */
export class WorkflowServer {
  readonly [WORKFLOW_SERVER_BRAND] = true;
  readonly #registry = new WorkflowRegistry();
  readonly #options: WorkflowServerOptions;
  /** Forwards to `#sink`, so that serve() can give a logger to parts made before it. */
  readonly #logger: ServerLogger;
  #sink: ServerLogger;
  readonly #clock: Clock;
  readonly #streams = new Set<OpenStream>();
  readonly #context: ServerContext;
  #phase: Phase = "starting";
  #runtime: Promise<Runtime> | null = null;
  #resolved: Runtime | null = null;
  #unsubscribe: (() => void) | null = null;
  #http: Server | null = null;
  #closed: Promise<void> | null = null;
  #uiDir: Promise<string | null> | null = null;
  #ownership: Ownership | null = null;
  #sweeper: KeySweeper | null = null;

  constructor(options: WorkflowServerOptions = {}) {
    const bodyLimit = options.bodyLimitBytes ?? 1024 * 1024;
    if (!(bodyLimit > 0)) throw new TypeError("bodyLimitBytes must be a positive number");
    const ttl = options.idempotencyTtlMs;
    if (ttl !== undefined && !(Number.isFinite(ttl) && ttl > 0)) {
      throw new TypeError("idempotencyTtlMs must be a positive number of milliseconds");
    }
    const resumes = options.maxResumeAttempts;
    if (resumes !== undefined && !(Number.isInteger(resumes) && resumes >= 1)) {
      throw new TypeError("maxResumeAttempts must be a whole number of at least 1");
    }
    this.#options = options;
    this.#sink = options.logger ?? silentLogger;
    this.#logger = {
      info: (message, details) => this.#sink.info(message, details),
      warn: (message, details) => this.#sink.warn(message, details),
      error: (message, details) => this.#sink.error(message, details),
    };
    this.#clock = options.clock ?? systemClock;
    const token = options.token ?? process.env["WORKFLOWS_SERVER_TOKEN"] ?? "";
    const context: ServerContext = {
      registry: this.#registry,
      logger: this.#logger,
      bodyLimitBytes: bodyLimit,
      checkToken: token ? makeBearerCheck(token) : null,
      corsOrigins: options.corsOrigins ?? envList(process.env["WORKFLOWS_CORS_ORIGINS"]),
      allowedHosts: options.allowedHosts ?? envList(process.env["WORKFLOWS_ALLOWED_HOSTS"]),
      acceptContext: options.acceptContext ?? false,
      keys: new KeyGate(),
      pingIntervalMs: options.pingIntervalMs ?? 15_000,
      clock: this.#clock,
      pageSize: 1000,
      runtime: () => this.#ensureRuntime(),
      phase: () => this.#phase,
      streams: this.#streams,
      uiDir: () => {
        this.#uiDir ??= options.uiDir !== undefined ? Promise.resolve(options.uiDir) : defaultUiDir();
        return this.#uiDir;
      },
    };
    this.#context = context;
    this.fetch = this.fetch.bind(this);
  }

  /**
   * Registers a workflow under `name`. Validates it (with its additional events); a duplicate name
   * throws.
   */
  addWorkflow(name: string, workflow: AnyWorkflow, options: AddWorkflowOptions = {}): this {
    this.#registry.add(name, workflow, options);
    return this;
  }

  /** The registered workflows' names, in registration order. */
  get workflowNames(): string[] {
    return this.#registry.names;
  }

  /** Runs held in memory right now (ended runs are dropped at once, idle ones after `idleReleaseMs`). */
  get liveRunCount(): number {
    return this.#resolved?.manager.liveCount ?? 0;
  }

  /** The web-standard handler: mount it in any framework, or call it in tests. */
  async fetch(request: Request): Promise<Response> {
    return answerFetch(this.#context, request);
  }

  /** Starts the store (resuming running handlers) and listens. Resolves once listening. */
  async serve(options: ServeOptions = {}): Promise<ServeInfo> {
    if (this.#http) throw new Error("The server is already serving");
    if (this.#phase === "closing") throw new Error("The server is closed");
    const host = options.host ?? "0.0.0.0";
    const port = options.port ?? 8080;
    if (options.logger && this.#options.logger === undefined) this.#sink = options.logger;
    await this.#ensureRuntime();
    const requestTimeout = this.#options.requestTimeoutMs ?? 60_000;
    const server = createServer(
      {
        // Slow clients cannot pin connections: the request (headers and body) must arrive in time.
        // These bound receiving the request only, so long event streams stay open.
        requestTimeout: requestTimeout,
        headersTimeout: Math.min(20_000, requestTimeout),
        keepAliveTimeout: 5_000,
        connectionsCheckingInterval: Math.max(50, Math.min(30_000, Math.floor(requestTimeout / 4))),
      },
      nodeListener(this.#context),
    );
    this.#http = server;
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, host, () => {
        server.off("error", reject);
        resolve();
      });
    });
    if (this.#context.checkToken === null && !isLoopback(host)) {
      (options.logger ?? this.#logger).warn(
        `the API is open to the network on ${host} without a token: anyone who can reach it can start and read runs; set WORKFLOWS_SERVER_TOKEN (or the token option), or serve on 127.0.0.1`,
      );
    }
    const address = server.address() as AddressInfo;
    const shownHost = host === "0.0.0.0" || host === "::" ? "127.0.0.1" : host;
    const urlHost = shownHost.includes(":") ? `[${shownHost}]` : shownHost;
    return { host, port: address.port, url: `http://${urlHost}:${address.port}` };
  }

  /**
   * Shuts down gracefully: /health turns 503, no new connections, open streams end, pending commits
   * are written, live runs are suspended (they stay `running` in the store, resumable), the store closes.
   */
  close(): Promise<void> {
    this.#closed ??= this.#close();
    return this.#closed;
  }

  async #close(): Promise<void> {
    this.#phase = "closing";
    const http = this.#http;
    const stopped = http ? new Promise<void>((resolve) => http.close(() => resolve())) : Promise.resolve();
    http?.closeIdleConnections();
    for (const stream of [...this.#streams]) stream.end();
    let runtime: Runtime | null = null;
    try {
      runtime = this.#runtime ? await this.#runtime : null;
    } catch {
      runtime = null;
    }
    if (runtime) {
      runtime.manager.suspendAll();
      try {
        await runtime.writer.drain();
      } catch (error) {
        this.#logger.error("pending commits were lost at shutdown", { error });
      }
      this.#unsubscribe?.();
      await this.#sweeper?.stop();
      await this.#ownership?.stop();
      // Let the other processes take the suspended runs over at once instead of after the lease expires.
      await this.#ownership?.releaseAll();
      await runtime.store.close();
    }
    if (http) {
      // Answers sent meanwhile (503s, ended streams) left keep-alive connections idle.
      http.closeIdleConnections();
      const timer = background(this.#clock, () => http.closeAllConnections(), 2_000);
      await stopped;
      this.#clock.clearTimeout(timer);
    }
  }

  #ensureRuntime(): Promise<Runtime> {
    if (this.#phase === "closing") {
      return Promise.reject(new WorkflowError("SERVER_CLOSING", "The server is shutting down"));
    }
    if (this.#resolved) return Promise.resolve(this.#resolved);
    this.#runtime ??= this.#init().then(
      (runtime) => {
        this.#resolved = runtime;
        if (this.#phase === "starting") this.#phase = "ready";
        return runtime;
      },
      (error: unknown) => {
        this.#runtime = null;
        this.#logger.error("the server could not start", { error });
        throw new WorkflowError("STORE_UNAVAILABLE", "The store is not available", { cause: error });
      },
    );
    return this.#runtime;
  }

  async #init(): Promise<Runtime> {
    const store = this.#options.store ?? (await createDefaultStore());
    await store.init();
    const signals = new HandlerSignals();
    // Several processes may share a store that has leases (Postgres): run only what this one holds.
    const ownership = ownershipFor(store, {
      ttlMs: this.#options.leaseTtlMs ?? (Number(process.env["WORKFLOWS_LEASE_TTL_MS"]) || 10_000),
      logger: this.#logger,
      clock: this.#clock,
    });
    const recent = new RecentEvents(RECENT_EVENTS_PER_HANDLER);
    const metrics = new ServerMetrics(this.#clock);
    const writer = new CommitWriter(store, {
      metrics,
      logger: this.#logger,
      clock: this.#clock,
      ownership,
      onCommitted: (ids, events) => {
        for (const group of events) recent.add(group.handlerId, group.events);
        signals.notify(ids);
      },
    });
    const runs = new RunManager({
      store,
      writer,
      registry: this.#registry,
      clock: this.#clock,
      idleReleaseMs: this.#options.idleReleaseMs ?? 60_000,
      maxResumeAttempts: this.#options.maxResumeAttempts ?? 3,
      logger: this.#logger,
      onDeleted: (id) => {
        recent.forget(id);
        signals.notify([id]);
      },
      ownership,
      metrics,
    });
    this.#unsubscribe = store.subscribe((ids) => {
      // This process's own commits wake readers from onCommitted, once their events are in `recent`.
      signals.notify(writer.notInFlight(ids));
      runs.changedElsewhere(ownership.foreign(ids));
    });
    this.#ownership = ownership;
    ownership.start(runs);
    await runs.resumeAll();
    ownership.startTakeover();
    this.#sweeper = new KeySweeper(store, {
      clock: this.#clock,
      ttlMs: this.#options.idempotencyTtlMs ?? 86_400_000,
      logger: this.#logger,
    });
    this.#sweeper.start();
    return { store, writer, manager: runs, signals, recent, clock: this.#clock, metrics };
  }
}

/** True for a WorkflowServer, even one from another copy of this module. */
export function isWorkflowServer(value: unknown): value is WorkflowServer {
  return (
    typeof value === "object" &&
    value !== null &&
    (value as Record<symbol, unknown>)[WORKFLOW_SERVER_BRAND] === true
  );
}

/** A comma-separated list from the environment; empty when unset. */
const envList = (value: string | undefined): string[] =>
  (value ?? "")
    .split(",")
    .map((v) => v.trim())
    .filter((v) => v !== "");

/** Addresses only this machine can reach. */
const isLoopback = (host: string): boolean =>
  host === "localhost" || host === "::1" || host.startsWith("127.") || host === "[::1]";
