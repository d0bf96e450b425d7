/** How the store learns about other processes' writes right now. */
export type ListenState = "listening" | "polling" | "stopped";

/**
 * Connection and pool settings, handed to node-postgres's `pg.Pool` (or `pg.Client` for the LISTEN
 * connection) as they are: any of its options is accepted. Typed here, with the common ones named,
 * so that the published types need neither `pg` nor `@types/pg`.
 */
export interface PostgresConnectionOptions {
  /** `postgres://user:password@host:port/database?…` */
  connectionString?: string;
  host?: string;
  port?: number;
  user?: string;
  password?: string | (() => string | Promise<string>);
  database?: string;
  /** `true`, or the options of `tls.connect` (`ca`, `rejectUnauthorized`, …). */
  ssl?: boolean | object;
  /** The pool's size. Default 10. */
  max?: number;
  idleTimeoutMillis?: number;
  connectionTimeoutMillis?: number;
  statement_timeout?: number;
  query_timeout?: number;
  application_name?: string;
  keepAlive?: boolean;
  /** Any other option of `pg.PoolConfig`. */
  [option: string]: unknown;
}

/** Where the store reports what it recovers from by itself. Silent by default. */
export interface PostgresStoreLogger {
  warn(message: string, error?: unknown): void;
}

export interface PostgresStoreOptions {
  /** The schema holding the store's tables; created by `init()`. Default `"workflows"`. */
  schema?: string;
  /** How often to poll for other processes' changes while the LISTEN connection is down. Default 1000. */
  pollIntervalMs?: number;
  /**
   * How often to check the LISTEN connection while it is up (a silent one is dropped for polling
   * after as long again), and to look for changes no notification named (a slow poll). Default 5000.
   */
  heartbeatMs?: number;
  /**
   * Where the dedicated LISTEN connection goes, when not where the pool goes: e.g. straight to the
   * database when the pool goes through PgBouncer in transaction mode, which does not carry LISTEN.
   */
  listenConnection?: string | PostgresConnectionOptions;
  /** The NOTIFY channel. Default `workflows_changes:<schema>`. Stores sharing a schema must agree. */
  channel?: string;
  /**
   * The longest a statement of the store may run (Postgres `statement_timeout`); the pool's client
   * also gives up this long plus 5 s after it sent one, so that a partition never hangs a call. A
   * statement stopped so answers 503 STORE_UNAVAILABLE. Default 30 000.
   */
  statementTimeoutMs?: number;
  /** The longest a statement waits for a lock (Postgres `lock_timeout`). Default 10 000. */
  lockTimeoutMs?: number;
  /**
   * The longest a migration waits for a table's lock (`ACCESS EXCLUSIVE`, behind any running query
   * on it) before it gives up and `init()` rejects, instead of stopping every query queued behind
   * it. Default 5 000; its statements may run for up to 10 minutes.
   */
  migrationLockTimeoutMs?: number;
  /** How long the readiness probe (`ready()`, GET /ready) waits for the database. Default 2 000. */
  readyTimeoutMs?: number;
  /**
   * The group commit's statement, the store's largest, is a named (prepared) statement: Postgres
   * parses and plans it once per connection instead of at every commit. Set false when the pool goes
   * through a pooler that does not keep prepared statements (PgBouncer in transaction mode before
   * 1.21, or with `max_prepared_statements = 0`). Default true.
   */
  prepareCommit?: boolean;
  /** Called whenever the LISTEN connection goes down (`polling`) or comes back (`listening`). */
  onListenStateChange?: (state: ListenState) => void;
  logger?: PostgresStoreLogger;
}

export const silentLogger: PostgresStoreLogger = { warn() {} };
