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
  /** How often to check the LISTEN connection while it is up. Default 15000. */
  heartbeatMs?: number;
  /**
   * Where the dedicated LISTEN connection goes, when not where the pool goes: e.g. straight to the
   * database when the pool goes through PgBouncer in transaction mode, which does not carry LISTEN.
   */
  listenConnection?: string | PostgresConnectionOptions;
  /** The NOTIFY channel. Default `workflows_changes:<schema>`. Stores sharing a schema must agree. */
  channel?: string;
  /** Called whenever the LISTEN connection goes down (`polling`) or comes back (`listening`). */
  onListenStateChange?: (state: ListenState) => void;
  logger?: PostgresStoreLogger;
}

export const silentLogger: PostgresStoreLogger = { warn() {} };
