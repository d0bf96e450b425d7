import pg from "pg";
import type { ListenState, PostgresStoreLogger } from "./options.js";

export type { ListenState };

export interface ChangeFeedOptions {
  /** Where the dedicated LISTEN client connects. */
  connection: pg.ClientConfig;
  /** Used for polling while the LISTEN client is down. */
  pool: pg.Pool;
  /** The NOTIFY channel, unquoted. */
  channel: string;
  /** The schema-qualified `changes` table. */
  changesTable: string;
  /** This store instance's id: notifications it sent itself are skipped (it delivers its own writes). */
  origin: string;
  pollIntervalMs: number;
  heartbeatMs: number;
  deliver: (handlerIds: readonly string[]) => void;
  onStateChange: (state: ListenState) => void;
  logger: PostgresStoreLogger;
}

/** What a commit sends with NOTIFY. `p` asks receivers to poll instead (the ids did not fit). */
export interface ChangeNotice {
  o: string;
  h?: string[];
  p?: true;
}

/** Postgres refuses payloads of 8000 bytes or more; leave room for the envelope. */
const MAX_PAYLOAD_BYTES = 7900;
/** Beyond this many notifications for one commit, one "poll" notice is cheaper for everyone. */
const MAX_CHUNKS = 64;

/** The LISTEN connection's settings: kept alive, named after the pool's application. */
export function listenSettings(listen: string | object): pg.ClientConfig {
  const base = (typeof listen === "string" ? { connectionString: listen } : listen) as pg.ClientConfig;
  return {
    connectionTimeoutMillis: 10_000,
    keepAlive: true,
    // A half-open LISTEN connection is noticed by TCP too, not only by the heartbeat.
    keepAliveInitialDelayMillis: 5_000,
    ...base,
    application_name: `${base.application_name ?? "eventloom"}:listen`,
  };
}

/**
 * Splits `handlerIds` into NOTIFY payloads under Postgres's 8000-byte limit. When they would take
 * too many notifications (or one id alone does not fit), returns a single notice asking receivers to
 * poll the `changes` table, which names every handler exactly.
 */
export function noticePayloads(origin: string, handlerIds: readonly string[]): string[] {
  const payloads: string[] = [];
  const overhead = Buffer.byteLength(JSON.stringify({ o: origin, h: [] }));
  let chunk: string[] = [];
  let size = overhead;
  for (const id of handlerIds) {
    const idSize = Buffer.byteLength(JSON.stringify(id)) + 1;
    if (overhead + idSize > MAX_PAYLOAD_BYTES) return [JSON.stringify({ o: origin, p: true })];
    if (size + idSize > MAX_PAYLOAD_BYTES) {
      payloads.push(JSON.stringify({ o: origin, h: chunk }));
      chunk = [];
      size = overhead;
    }
    chunk.push(id);
    size += idSize;
  }
  if (chunk.length > 0) payloads.push(JSON.stringify({ o: origin, h: chunk }));
  return payloads.length > MAX_CHUNKS ? [JSON.stringify({ o: origin, p: true })] : payloads;
}

/**
 * Tells this process which handlers other processes changed: LISTEN on a dedicated client while it
 * is up; while it is down, poll the `changes` table every `pollIntervalMs` and try to reconnect.
 *
 * Polling is exact, not a guess: every write stamps its handlers' rows in `changes` with its
 * transaction id (xid8), and a poll returns the rows stamped by transactions at or after the cursor,
 * the oldest transaction still running at the previous poll (`pg_snapshot_xmin`), so a transaction
 * that commits late is still seen. Ids may be delivered twice; listeners treat them as wake-ups.
 * While listening, a heartbeat on the LISTEN client checks the connection and keeps the cursor
 * recent (it trails by one heartbeat, so that notifications in flight when the connection dies are
 * covered by the first poll). The heartbeat is also a slow poll: it delivers the handlers changed
 * since the cursor that no notification named (a notice lost on a connection that looked alive).
 */
export class ChangeFeed {
  #options: ChangeFeedOptions;
  #state: ListenState = "stopped";
  #client: pg.Client | null = null;
  /** Bumped for every connection attempt, so that events from an old client are ignored. */
  #generation = 0;
  /** Transactions from this xid on may have changes we did not deliver. */
  #cursor: string | null = null;
  /** The heartbeat's newest xmin; becomes the cursor at the next heartbeat. */
  #pendingCursor: string | null = null;
  /** Handlers named by notices (or this store's own commits) since the last heartbeat, and before it. */
  #seen = new Set<string>();
  #seenBefore = new Set<string>();
  #timer: NodeJS.Timeout | null = null;
  #polling: Promise<void> = Promise.resolve();
  #stopped = false;

  constructor(options: ChangeFeedOptions) {
    this.#options = options;
  }

  get state(): ListenState {
    return this.#state;
  }

  /** Connects the LISTEN client; when that fails, starts in polling mode (and keeps trying). */
  async start(): Promise<void> {
    this.#stopped = false;
    if (await this.#listen()) return;
    this.#cursor ??= await this.#currentXmin(this.#options.pool);
    this.#setState("polling");
    this.#schedule(this.#options.pollIntervalMs);
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.#generation++;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    const client = this.#client;
    this.#client = null;
    this.#setState("stopped");
    await this.#polling.catch(() => undefined);
    await client?.end().catch(() => undefined);
  }

  /** Handlers whose change this process has heard of already (its own commits): the slow poll skips them. */
  seen(handlerIds: readonly string[]): void {
    if (this.#state !== "listening") return;
    for (const id of handlerIds) this.#seen.add(id);
  }

  /** Runs one poll now (serialized with any other), e.g. when a notice asks for it. */
  poll(): Promise<void> {
    // Chained after the previous poll whatever its outcome: one failure must not fail the next.
    const next = this.#polling.catch(() => undefined).then(() => this.#pollOnce());
    this.#polling = next;
    return next;
  }

  async #pollOnce(): Promise<void> {
    if (this.#stopped || this.#cursor === null) return;
    const { rows } = await this.#options.pool.query<{ xmin: string; ids: string[] }>(
      `SELECT pg_snapshot_xmin(pg_current_snapshot())::text AS xmin,
              array(SELECT handler_id FROM ${this.#options.changesTable} WHERE xid >= $1::xid8) AS ids`,
      [this.#cursor],
    );
    const row = rows[0]!;
    this.#cursor = row.xmin;
    this.#pendingCursor = row.xmin;
    if (row.ids.length > 0) this.#options.deliver(row.ids);
  }

  /** The heartbeat: the current xmin, and the handlers changed since the cursor (a slow poll). */
  async #heartbeat(client: pg.ClientBase): Promise<{ xmin: string; ids: string[] }> {
    const { rows } = await client.query<{ xmin: string; ids: string[] | null }>(
      `SELECT pg_snapshot_xmin(pg_current_snapshot())::text AS xmin,
              CASE WHEN $1::xid8 IS NULL THEN NULL
                   ELSE array(SELECT handler_id FROM ${this.#options.changesTable} WHERE xid >= $1::xid8) END AS ids`,
      [this.#cursor],
    );
    return { xmin: rows[0]!.xmin, ids: rows[0]!.ids ?? [] };
  }

  async #currentXmin(client: pg.ClientBase | pg.Pool): Promise<string> {
    const { rows } = await client.query<{ xmin: string }>(
      "SELECT pg_snapshot_xmin(pg_current_snapshot())::text AS xmin",
    );
    return rows[0]!.xmin;
  }

  /** Connects and LISTENs; then catches up on what happened while not listening. True on success. */
  async #listen(): Promise<boolean> {
    const generation = ++this.#generation;
    const client = new pg.Client(this.#options.connection);
    client.on("error", (error) => this.#lost(generation, error));
    client.on("end", () => this.#lost(generation, new Error("LISTEN connection ended")));
    client.on("notification", (message) => {
      if (generation === this.#generation && message.channel === this.#options.channel) {
        this.#onNotice(message.payload);
      }
    });
    try {
      await client.connect();
      await client.query(`LISTEN "${this.#options.channel.replaceAll('"', '""')}"`);
      const xmin = await this.#currentXmin(client);
      if (this.#stopped || generation !== this.#generation) {
        await client.end().catch(() => undefined);
        return false;
      }
      this.#client = client;
      // Anything committed before LISTEN took effect is found by polling from the old cursor.
      if (this.#cursor !== null) await this.poll();
      this.#cursor = xmin;
      this.#pendingCursor = xmin;
      this.#setState("listening");
      this.#schedule(this.#options.heartbeatMs);
      return true;
    } catch (error) {
      this.#options.logger.warn("eventloom: Postgres LISTEN connection failed", error);
      if (generation === this.#generation) this.#generation++;
      if (this.#client === client) this.#client = null;
      await client.end().catch(() => undefined);
      return false;
    }
  }

  #onNotice(payload: string | undefined): void {
    let notice: ChangeNotice;
    try {
      notice = JSON.parse(payload ?? "") as ChangeNotice;
    } catch (error) {
      this.#options.logger.warn("eventloom: ignored a malformed change notice", error);
      return;
    }
    if (notice.o === this.#options.origin) return;
    if (notice.p) {
      this.poll().catch((error: unknown) =>
        this.#options.logger.warn("eventloom: change poll failed", error),
      );
    } else if (Array.isArray(notice.h) && notice.h.length > 0) {
      for (const id of notice.h) this.#seen.add(id);
      this.#options.deliver(notice.h);
    }
  }

  #lost(generation: number, error: unknown): void {
    if (this.#stopped || generation !== this.#generation) return;
    this.#options.logger.warn("eventloom: Postgres LISTEN connection lost; polling until it is back", error);
    this.#generation++;
    const client = this.#client;
    this.#client = null;
    client?.end().catch(() => undefined);
    this.#setState("polling");
    this.#schedule(0);
  }

  #schedule(delayMs: number): void {
    if (this.#stopped) return;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = setTimeout(() => {
      this.#timer = null;
      void this.#tick();
    }, delayMs);
    this.#timer.unref();
  }

  async #tick(): Promise<void> {
    if (this.#stopped) return;
    if (this.#state === "listening") {
      const client = this.#client;
      const generation = this.#generation;
      try {
        // A half-open connection never answers: treat silence as a loss.
        const { xmin, ids } = await withTimeout(
          this.#heartbeat(client!),
          this.#options.heartbeatMs,
          "the LISTEN connection did not answer its heartbeat",
        );
        if (generation !== this.#generation) return;
        const missed = ids.filter((id) => !this.#seen.has(id) && !this.#seenBefore.has(id));
        this.#seenBefore = this.#seen;
        this.#seen = new Set();
        if (missed.length > 0) this.#options.deliver(missed);
        this.#cursor = this.#pendingCursor;
        this.#pendingCursor = xmin;
        this.#schedule(this.#options.heartbeatMs);
      } catch (error) {
        this.#lost(generation, error);
      }
      return;
    }
    try {
      await this.poll();
    } catch (error) {
      this.#options.logger.warn("eventloom: change poll failed", error);
    }
    if (this.#stopped || this.#state !== "polling") return;
    if (!(await this.#listen())) this.#schedule(this.#options.pollIntervalMs);
  }

  #setState(state: ListenState): void {
    if (this.#state === state) return;
    this.#state = state;
    this.#options.onStateChange(state);
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${message} within ${ms} ms`)), ms);
    timer.unref();
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
