import pg from "pg";
import { StoreClosedError } from "../store.js";
import type { PostgresConnectionOptions, PostgresStoreLogger } from "./options.js";
import { isConnectionError, isRetryable, toStoreError } from "./store-errors.js";

/**
 * The store's pool of connections: statements and transactions on pooled clients, connection failures
 * turned into STORE_UNAVAILABLE, and the calls in flight tracked so that `close()` can wait for them.
 */
export class Connections {
  readonly pool: pg.Pool;
  readonly base: pg.PoolConfig;
  readonly #pending = new Set<Promise<unknown>>();
  #closed = false;

  constructor(
    connection: string | PostgresConnectionOptions,
    logger: PostgresStoreLogger,
    timeouts: { statementMs: number; lockMs: number } = { statementMs: 30_000, lockMs: 10_000 },
  ) {
    // Our option types are pg's, written out without @types/pg: hand them over as they are.
    this.base = (
      typeof connection === "string" ? { connectionString: connection } : connection
    ) as pg.PoolConfig;
    this.pool = new pg.Pool({
      connectionTimeoutMillis: 10_000,
      keepAlive: true,
      application_name: "eventloom",
      // A client cut off mid-transaction (a network partition) would keep its row locks, lease rows
      // among them, until the server notices the dead connection: takeovers would wait that long.
      idle_in_transaction_session_timeout: 2_000,
      // A partition must not hang a call: the server stops a long statement, the client gives up on
      // an answer that does not come (that connection is then destroyed, see isConnectionError).
      statement_timeout: timeouts.statementMs,
      lock_timeout: timeouts.lockMs,
      query_timeout: timeouts.statementMs + 5_000,
      ...this.base,
    });
    // Idle clients error when the server goes away; the pool drops them and reconnects on demand.
    this.pool.on("error", (error) => logger.warn("eventloom: idle Postgres connection failed", error));
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Refuses new calls; `drain()` then waits for those in flight. */
  markClosed(): void {
    this.#closed = true;
  }

  async drain(): Promise<void> {
    await Promise.allSettled([...this.#pending]);
  }

  /** Throws StoreClosedError once the store is closed. */
  open(): void {
    if (this.#closed) throw new StoreClosedError();
  }

  /**
   * One statement on any pooled connection, tracked. Connection failures become STORE_UNAVAILABLE;
   * other database errors pass through as node-postgres's `DatabaseError` (with its SQLSTATE `code`).
   */
  query<R extends pg.QueryResultRow>(text: string, values: unknown[]): Promise<pg.QueryResult<R>> {
    this.open();
    return this.track(this.statement<R>(text, values));
  }

  // Not pool.query: it destroys the connection after any error, even a unique violation, and
  // reconnecting costs far more than the statement.
  // A single statement is its own transaction: after a deadlock or a serialization failure (nothing
  // of it was written) it runs again, twice at most, before the error is answered (503).
  async statement<R extends pg.QueryResultRow>(
    text: string,
    values: unknown[],
    name?: string,
  ): Promise<pg.QueryResult<R>> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.withClient((client) =>
          name === undefined ? client.query<R>(text, values) : client.query<R>({ name, text, values }),
        );
      } catch (error) {
        if (attempt >= 3 || !isRetryable((error as { cause?: unknown }).cause ?? error)) throw error;
      }
    }
  }

  transaction<T>(work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    return this.withClient(async (client, broken) => {
      await client.query("BEGIN");
      try {
        const result = await work(client);
        await client.query("COMMIT");
        return result;
      } catch (error) {
        if (!isConnectionError(error)) await client.query("ROLLBACK").catch(broken);
        throw error;
      }
    });
  }

  /**
   * Runs `work` on a pooled client. A client whose connection broke (or that could not be rolled
   * back) is destroyed rather than returned to the pool; connection failures become STORE_UNAVAILABLE.
   */
  async withClient<T>(
    work: (client: pg.PoolClient, broken: (error: unknown) => void) => Promise<T>,
  ): Promise<T> {
    let client: pg.PoolClient;
    try {
      client = await this.pool.connect();
    } catch (error) {
      throw toStoreError(error);
    }
    let failure: Error | undefined;
    const broken = (error: unknown) => {
      failure ??= error instanceof Error ? error : new Error(String(error));
    };
    // A checked-out client emits "error" when its connection drops, even mid-query: without a
    // listener that would crash the process.
    client.on("error", broken);
    try {
      return await work(client, broken);
    } catch (error) {
      if (isConnectionError(error)) broken(error);
      throw toStoreError(error);
    } finally {
      client.off("error", broken);
      client.release(failure);
    }
  }

  track<T>(promise: Promise<T>): Promise<T> {
    this.#pending.add(promise);
    const forget = () => this.#pending.delete(promise);
    promise.then(forget, forget);
    return promise;
  }
}
