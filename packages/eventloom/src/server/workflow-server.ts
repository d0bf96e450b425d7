import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { type AnyWorkflow, type Clock, systemClock, WorkflowError } from "../core/index.js";
import { parseWireDialect, WIRE_DIALECTS, type WireDialect } from "../protocol/index.js";
import { background } from "./clock-timers.js";
import { type Ownership, ownershipFor } from "./cluster/index.js";
import { createDefaultStore } from "./default-store.js";
import type { OpenStream } from "./event-stream.js";
import { normalizeBasePath } from "./http/base-path.js";
import { makeBearerCheck } from "./http/bearer-auth.js";
import { type NodeHandler, nodeListener } from "./http/node-sink.js";
import { defaultUiDir } from "./http/static-ui.js";
import { answerFetch } from "./http/web-sink.js";
import { KeyGate } from "./idempotency/key-gate.js";
import { KeySweeper } from "./idempotency/key-sweeper.js";
import { type ServerLogger, silentLogger } from "./logger.js";
import { ServerMetrics } from "./metrics/index.js";
import { type AddWorkflowOptions, WorkflowRegistry } from "./registry.js";
import { RetentionLoop } from "./retention/index.js";
import { CommitWriter } from "./runs/commit-writer.js";
import { HandlerSignals } from "./runs/handler-signals.js";
import { DEFAULT_RECENT_BYTES, RecentEvents } from "./runs/recent-events.js";
import { RunManager } from "./runs/run-manager.js";
import { Scheduler } from "./schedules/scheduler.js";
import type { Runtime, ServerContext } from "./server-context.js";
import { serverLimits } from "./server-limits.js";
import type { ServeInfo, ServeOptions, WorkflowServerOptions } from "./server-options.js";
import { loadTracing, type ServerTracing } from "./tracing/index.js";

export type { NodeHandler } from "./http/node-sink.js";
export type { ServeInfo, ServeOptions, WorkflowServerOptions } from "./server-options.js";

/** Lets the CLI recognise a server created by another copy of this module. */
export const WORKFLOW_SERVER_BRAND: unique symbol = Symbol.for("eventloom.WorkflowServer") as never;

/** Events kept in memory for a handler a stream reads: one page to a page and a half of a stream's reads. */
const RECENT_EVENTS_PER_HANDLER = 1000;

type Phase = "starting" | "ready" | "closing" | "failed";

/**
 * Serves workflows over HTTP: runs them durably in its store, streams their events, and mounts the
 * debugger UI at `/` (at its `basePath` when it has one). It serves on its own (`serve()`) or in
 * another app (`server.fetch`, `server.nodeHandler`; docs/EMBEDDING.md).
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
  #retention: RetentionLoop | null = null;
  #scheduler: Scheduler | null = null;
  #tracing: ServerTracing | null = null;
  readonly #limits: ReturnType<typeof serverLimits>;

  /**
   * The handler for node's HTTP servers and for Express, Connect or Fastify (`reply.raw`): with a
   * `basePath`, a request outside it goes to `next` when one is given. A body a parser in front of
   * it already read is taken from `request.body` (`express.json()`); one read without that is a 400.
   */
  readonly nodeHandler: NodeHandler;
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
    this.#limits = serverLimits(options, process.env);
    this.#sink = options.logger ?? silentLogger;
    this.#logger = {
      info: (message, details) => this.#sink.info(message, details),
      warn: (message, details) => this.#sink.warn(message, details),
      error: (message, details) => this.#sink.error(message, details),
    };
    this.#clock = options.clock ?? systemClock;
    const basePath = normalizeBasePath(options.basePath);
    const token = options.token ?? process.env["WORKFLOWS_SERVER_TOKEN"] ?? "";
    const context: ServerContext = {
      registry: this.#registry,
      logger: this.#logger,
      bodyLimitBytes: bodyLimit,
      checkToken: token ? makeBearerCheck(token) : null,
      corsOrigins: options.corsOrigins ?? envList(process.env["WORKFLOWS_CORS_ORIGINS"]),
      allowedHosts: options.allowedHosts ?? envList(process.env["WORKFLOWS_ALLOWED_HOSTS"]),
      acceptContext: options.acceptContext ?? false,
      wire: serverWire(options.wire),
      keys: new KeyGate(),
      pingIntervalMs: options.pingIntervalMs ?? 15_000,
      clock: this.#clock,
      pageSize: 1000,
      basePath,
      runtime: () => this.#ensureRuntime(),
      readyRuntime: () => (this.#phase === "closing" ? null : this.#resolved),
      phase: () => this.#phase,
      streams: this.#streams,
      uiDir: () => {
        this.#uiDir ??= options.uiDir !== undefined ? Promise.resolve(options.uiDir) : defaultUiDir();
        return this.#uiDir;
      },
      tracing: () => this.#tracing,
    };
    this.#context = context;
    this.fetch = this.fetch.bind(this);
    this.nodeHandler = nodeListener(context);
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

  /**
   * The web-standard handler: mount it in any framework (Hono, Next.js route handlers, …), or call it
   * in tests. With a `basePath`, give it requests whose URL still has it.
   */
  async fetch(request: Request): Promise<Response> {
    return answerFetch(this.#context, request);
  }

  /**
   * Opens the store and resumes the runs it holds as running, at once rather than on the first
   * request: call it before the app the server is mounted in listens (`serve()` calls it). Calling it
   * again is harmless.
   *
   * @throws WorkflowError `STORE_UNAVAILABLE` when the store cannot be opened (its error as `cause`),
   * `SERVER_CLOSING` after `close()`.
   */
  async start(): Promise<void> {
    await this.#ensureRuntime();
  }

  /** Starts the store (resuming running handlers) and listens. Resolves once listening. */
  async serve(options: ServeOptions = {}): Promise<ServeInfo> {
    if (this.#http) throw new Error("The server is already serving");
    if (this.#phase === "closing") throw new Error("The server is closed");
    const host = options.host ?? "0.0.0.0";
    const port = options.port ?? 8080;
    if (options.logger && this.#options.logger === undefined) this.#sink = options.logger;
    await this.start();
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
      this.nodeHandler,
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
    const url = `http://${urlHost}:${address.port}${this.#context.basePath}`;
    return { host, port: address.port, url };
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
      this.#scheduler?.stop();
      runtime.manager.suspendAll();
      try {
        await runtime.writer.drain();
      } catch (error) {
        this.#logger.error("pending commits were lost at shutdown", { error });
      }
      this.#unsubscribe?.();
      await this.#retention?.stop();
      await this.#sweeper?.stop();
      await this.#ownership?.stop();
      // Let the other processes take the suspended runs over at once instead of after the lease expires.
      await this.#ownership?.releaseAll();
      await runtime.store.close();
    }
    // Last: the spans of the shutdown itself are exported too.
    await this.#tracing?.shutdown().catch((error: unknown) => {
      this.#logger.warn("could not flush the trace exporter", { error });
    });
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
    this.#tracing ??= await loadTracing(this.#options.tracing, process.env, this.#logger);
    const store = this.#options.store ?? (await createDefaultStore());
    await store.init();
    const signals = new HandlerSignals();
    // Several processes may share a store that has leases (Postgres): run only what this one holds.
    const ownership = ownershipFor(store, {
      ttlMs: this.#options.leaseTtlMs ?? (Number(process.env["WORKFLOWS_LEASE_TTL_MS"]) || 10_000),
      logger: this.#logger,
      clock: this.#clock,
    });
    const recent = new RecentEvents({ rowsPerHandler: RECENT_EVENTS_PER_HANDLER, ...DEFAULT_RECENT_BYTES });
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
      keepStepStates: this.#options.keepStepStates === true,
      maxEventBytes: this.#limits.maxEventBytes,
      logger: this.#logger,
      onDeleted: (id) => {
        recent.forget(id);
        signals.notify([id]);
      },
      ownership,
      metrics,
      tracing: this.#tracing,
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
    const scheduler = new Scheduler({
      store,
      clock: this.#clock,
      logger: this.#logger,
      schedules: this.#registry.schedules,
      versionOf: (name) => this.#registry.get(name)?.workflow.version ?? null,
      start: (handlerId) => runs.acquire(handlerId),
    });
    this.#scheduler = scheduler;
    await scheduler.start();
    const { retention } = this.#limits;
    if (retention) {
      this.#retention = new RetentionLoop({
        store,
        retention,
        clock: this.#clock,
        logger: this.#logger,
        onDeleted: (ids) => {
          for (const id of ids) recent.forget(id);
          signals.notify(ids);
        },
      });
      this.#retention.start();
    }
    this.#sweeper = new KeySweeper(store, {
      clock: this.#clock,
      ttlMs: this.#options.idempotencyTtlMs ?? 86_400_000,
      logger: this.#logger,
    });
    this.#sweeper.start();
    return { store, writer, manager: runs, signals, recent, clock: this.#clock, metrics, scheduler };
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

/** The `wire` option, else `WORKFLOWS_WIRE`, else `seed`; a value that names no dialect throws. */
function serverWire(option: WireDialect | undefined): WireDialect {
  const [given, source] =
    option !== undefined
      ? [String(option), "The wire option"]
      : [process.env["WORKFLOWS_WIRE"] ?? "", "WORKFLOWS_WIRE"];
  if (option === undefined && given.trim() === "") return "seed";
  const wire = parseWireDialect(given);
  if (wire === null || (option !== undefined && wire !== option)) {
    throw new TypeError(`${source} must be one of ${WIRE_DIALECTS.join(", ")}, got "${given}"`);
  }
  return wire;
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
