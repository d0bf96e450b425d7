import type pg from "pg";
import type { ListenState } from "./change-feed.js";

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
  listenConnection?: string | pg.ClientConfig;
  /** The NOTIFY channel. Default `workflows_changes:<schema>`. Stores sharing a schema must agree. */
  channel?: string;
  /** Called whenever the LISTEN connection goes down (`polling`) or comes back (`listening`). */
  onListenStateChange?: (state: ListenState) => void;
  logger?: PostgresStoreLogger;
}

export const silentLogger: PostgresStoreLogger = { warn() {} };
