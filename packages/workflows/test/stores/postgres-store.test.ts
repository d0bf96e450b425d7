import { randomBytes } from "node:crypto";
import net from "node:net";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type PublishedEvent, type RunState, WorkflowError } from "../../src/core/index.js";
import { isLeaseStore, LeaseLostError } from "../../src/stores/leases.js";
import { noticePayloads } from "../../src/stores/postgres/change-feed.js";
import {
  type ListenState,
  migrations,
  PostgresStore,
  type PostgresStoreOptions,
} from "../../src/stores/postgres/index.js";
import { type HandlerRecord, SequenceConflictError, StoreClosedError } from "../../src/stores/store.js";

// Real PostgreSQL, as the house style asks: this file makes its own database and drops it at the end.
const ADMIN_URL = process.env.WORKFLOWS_TEST_POSTGRES ?? "postgres://postgres@127.0.0.1:5432/postgres";
const DB_NAME = `workflows_test_${randomBytes(6).toString("hex")}`;
const PG_PORT = Number(new URL(ADMIN_URL).port || 5432);
let dbUrl = "";
let admin: pg.Client;
const opened: PostgresStore[] = [];
const proxies: TcpProxy[] = [];
let schemaCount = 0;

beforeAll(async () => {
  admin = new pg.Client({ connectionString: ADMIN_URL, connectionTimeoutMillis: 5000 });
  try {
    await admin.connect();
  } catch (error) {
    throw new Error(
      `PostgreSQL is not reachable at ${ADMIN_URL} (${(error as Error).message}). These tests need a real server: ` +
        "check with `pg_isready -h 127.0.0.1`, start it with " +
        "`pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start`, " +
        "or point WORKFLOWS_TEST_POSTGRES at another one.",
    );
  }
  await admin.query(`CREATE DATABASE ${DB_NAME}`);
  const url = new URL(ADMIN_URL);
  url.pathname = `/${DB_NAME}`;
  dbUrl = url.toString();
});

afterAll(async () => {
  await Promise.allSettled(opened.map((s) => s.close()));
  await Promise.allSettled(proxies.map((p) => p.stop()));
  await admin.query(`DROP DATABASE IF EXISTS ${DB_NAME} WITH (FORCE)`);
  await admin.end();
});

/** A schema no other test uses: a fresh, empty store. */
function freshSchema(): string {
  return `s${++schemaCount}_${randomBytes(3).toString("hex")}`;
}

function openStore(options: PostgresStoreOptions & { url?: string } = {}): PostgresStore {
  const { url, ...rest } = options;
  const store = new PostgresStore({ connectionString: url ?? dbUrl, max: 4 }, rest);
  opened.push(store);
  return store;
}

/** Two (or more) stores on one schema: two server processes sharing a database. */
async function sharedStores(count: number, options: PostgresStoreOptions = {}): Promise<PostgresStore[]> {
  const schema = options.schema ?? freshSchema();
  const stores = Array.from({ length: count }, () => openStore({ ...options, schema }));
  for (const store of stores) await store.init();
  return stores;
}

const T0 = Date.parse("2024-10-21T14:32:15.123Z");
const iso = (offsetMs: number) => new Date(T0 + offsetMs).toISOString();

function record(handlerId: string, overrides: Partial<HandlerRecord> = {}): HandlerRecord {
  return {
    handlerId,
    workflowName: "greet",
    runId: `run-${handlerId}`,
    status: "running",
    result: null,
    error: null,
    startedAt: iso(0),
    updatedAt: iso(0),
    completedAt: null,
    ...overrides,
  };
}

function event(sequence: number, value: Record<string, unknown> = { sequence }): PublishedEvent {
  return {
    sequence,
    type: "StreamEvent",
    qualifiedName: "StreamEvent",
    types: ["workflows.events.Event", "StreamEvent"],
    value,
    internal: false,
    timestamp: iso(sequence),
  };
}

function runState(nextSequence: number, store: RunState["store"] = {}): RunState {
  return {
    version: 1,
    workflowName: "greet",
    runId: "run",
    status: "running",
    startedAt: T0,
    deadline: null,
    nextSequence,
    nextItemId: 0,
    queues: {},
    inFlight: {},
    retries: {},
    collected: {},
    waiters: {},
    unclaimed: [],
    store,
    idle: false,
    outcome: null,
  };
}

/** Rejects after `ms` with a message naming what never happened (a guard, not a synchronisation). */
function within<T>(promise: Promise<T>, what: string, ms = 10_000): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`Timed out waiting for ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Records what a store's subscribers hear, and waits for particular ids to be heard. */
function listen(store: PostgresStore) {
  const calls: string[][] = [];
  const heard = new Set<string>();
  const waiting: { ids: string[]; resolve: () => void }[] = [];
  const unsubscribe = store.subscribe((ids) => {
    calls.push([...ids]);
    for (const id of ids) heard.add(id);
    for (const w of [...waiting]) {
      if (w.ids.every((id) => heard.has(id))) {
        waiting.splice(waiting.indexOf(w), 1);
        w.resolve();
      }
    }
  });
  return {
    calls,
    heard,
    unsubscribe,
    hears(ids: string[], what = `notice of ${ids.slice(0, 3).join(", ")}`): Promise<void> {
      if (ids.every((id) => heard.has(id))) return Promise.resolve();
      return within(new Promise<void>((resolve) => waiting.push({ ids, resolve })), what);
    },
  };
}

/** Watches a store's LISTEN state changes; `reaches` resolves once the state was entered. */
function stateWatcher() {
  const seen: ListenState[] = [];
  const waiting: { state: ListenState; from: number; resolve: () => void }[] = [];
  return {
    seen,
    onListenStateChange(state: ListenState) {
      seen.push(state);
      for (const w of [...waiting]) {
        if (seen.indexOf(w.state, w.from) >= 0) {
          waiting.splice(waiting.indexOf(w), 1);
          w.resolve();
        }
      }
    },
    /** Waits for `state` to be entered after the `from`-th change. */
    reaches(state: ListenState, from = seen.length): Promise<void> {
      if (seen.indexOf(state, from) >= 0) return Promise.resolve();
      return within(
        new Promise<void>((resolve) => waiting.push({ state, from, resolve })),
        `LISTEN state ${state}`,
      );
    },
  };
}

/** A TCP proxy to the database that can be cut and restored: a network outage on demand. */
class TcpProxy {
  readonly #sockets = new Set<net.Socket>();
  #server: net.Server | null = null;
  port = 0;

  async start(): Promise<void> {
    const server = net.createServer((client) => {
      const upstream = net.connect(PG_PORT, "127.0.0.1");
      for (const s of [client, upstream]) {
        this.#sockets.add(s);
        s.on("close", () => this.#sockets.delete(s));
        s.on("error", () => {
          client.destroy();
          upstream.destroy();
        });
      }
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(this.port, "127.0.0.1", () => resolve());
    });
    this.port = (server.address() as net.AddressInfo).port;
    this.#server = server;
  }

  async stop(): Promise<void> {
    const server = this.#server;
    this.#server = null;
    for (const s of this.#sockets) s.destroy();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  url(): string {
    const url = new URL(dbUrl);
    url.port = String(this.port);
    return url.toString();
  }
}

async function startProxy(): Promise<TcpProxy> {
  const proxy = new TcpProxy();
  await proxy.start();
  proxies.push(proxy);
  return proxy;
}

async function expectUnavailable(promise: Promise<unknown>): Promise<void> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(WorkflowError);
  expect((error as WorkflowError).code).toBe("STORE_UNAVAILABLE");
}

describe("PostgresStore init", () => {
  it("applies each migration exactly once when five stores initialize a fresh schema at once", async () => {
    const schema = freshSchema();
    const stores = Array.from({ length: 5 }, () => openStore({ schema }));
    await Promise.all(stores.map((s) => s.init()));

    const applied = await withDb((db) =>
      db.query<{ version: number }>(`SELECT version FROM ${schema}.schema_migrations ORDER BY 1`),
    );
    expect(applied.rows.map((r) => r.version)).toEqual(migrations.map((m) => m.version));
    // Every one of them works against the schema the others helped create.
    await Promise.all(stores.map((s, i) => s.commit({ handlers: [record(`h${i}`)] })));
    const page = await stores[0]!.listHandlers({ limit: 10 });
    expect(page.handlers.map((h) => h.handlerId).sort()).toEqual(["h0", "h1", "h2", "h3", "h4"]);
  });

  it("leaves an up-to-date schema alone when initialized again", async () => {
    const schema = freshSchema();
    const first = openStore({ schema });
    await first.init();
    await first.commit({ handlers: [record("kept")], events: [{ handlerId: "kept", events: [event(0)] }] });
    const again = openStore({ schema });
    await again.init();
    await again.init();
    expect(await again.getHandler("kept")).toEqual(record("kept"));
    expect(await again.lastSequence("kept")).toBe(0);
  });

  it("refuses a schema migrated by a newer release of the library", async () => {
    const schema = freshSchema();
    await openStore({ schema }).init();
    await withDb((db) =>
      db.query(`INSERT INTO ${schema}.schema_migrations (version, name) VALUES (999, 'future')`),
    );
    await expect(openStore({ schema }).init()).rejects.toThrow(/version 999, newer than this library's/);
  });

  it("rejects with STORE_UNAVAILABLE when the database cannot be reached", async () => {
    const proxy = await startProxy();
    const url = proxy.url();
    await proxy.stop();
    await expectUnavailable(openStore({ url, schema: freshSchema() }).init());
  });
});

async function withDb<T>(work: (db: pg.Client) => Promise<T>): Promise<T> {
  const db = new pg.Client({ connectionString: dbUrl });
  await db.connect();
  try {
    return await work(db);
  } finally {
    await db.end();
  }
}
