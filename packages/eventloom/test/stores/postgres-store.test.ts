import { randomBytes } from "node:crypto";
import pg from "pg";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { type PublishedEvent, type RunState, WorkflowError } from "../../src/core/index.js";
import { isLeaseStore, LeaseLostError } from "../../src/stores/leases.js";
import { noticePayloads } from "../../src/stores/postgres/change-feed.js";
import {
  type ListenState,
  PostgresStore,
  type PostgresStoreOptions,
} from "../../src/stores/postgres/index.js";
import { migrations } from "../../src/stores/postgres/migrations.js";
import { eventRows, SequenceConflictError, StoreClosedError, stateJson } from "../../src/stores/store.js";
import { handlerRecord, runStoreContract } from "../../src/testing/store-contract/index.js";
import { ADMIN_URL, beforeAllOrFailEach, connectAdmin } from "../support/fresh-database.js";
import { TcpProxy } from "../support/tcp-proxy.js";

// Real PostgreSQL, as the house style asks: this file makes its own database and drops it at the end.
const DB_NAME = `workflows_pgfence_test_${randomBytes(6).toString("hex")}`;
const PG_PORT = Number(new URL(ADMIN_URL).port || 5432);
let dbUrl = "";
let admin: pg.Client;
const opened: PostgresStore[] = [];
const proxies: TcpProxy[] = [];
let schemaCount = 0;

beforeAllOrFailEach(async () => {
  admin = await connectAdmin();
  await admin.query(`CREATE DATABASE ${DB_NAME}`);
  const url = new URL(ADMIN_URL);
  url.pathname = `/${DB_NAME}`;
  dbUrl = url.toString();
});

// Each test's stores are closed after it: open until the end, they would hold up to five connections
// each, and the file's later tests would find the database's connections used up.
afterEach(async () => {
  await Promise.allSettled(opened.splice(0).map((s) => s.close()));
});

afterAll(async () => {
  await Promise.allSettled(opened.map((s) => s.close()));
  await Promise.allSettled(proxies.map((p) => p.down()));
  if (!dbUrl) return; // never connected: each test failed with the reason
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
    /** Waits for `state` to be entered at or after the `from`-th change (take `seen.length` before acting). */
    reaches(state: ListenState, from: number): Promise<void> {
      if (seen.indexOf(state, from) >= 0) return Promise.resolve();
      return within(
        new Promise<void>((resolve) => waiting.push({ state, from, resolve })),
        `LISTEN state ${state}`,
      );
    },
  };
}

async function startProxy(): Promise<TcpProxy> {
  const proxy = new TcpProxy({ host: "127.0.0.1", port: PG_PORT });
  await proxy.up();
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

runStoreContract("postgres", async () => {
  const schema = freshSchema();
  const store = new PostgresStore({ connectionString: dbUrl, max: 4 }, { schema });
  await store.init();
  return {
    store,
    cleanup: async () => {
      await store.close();
      await withDb((db) => db.query(`DROP SCHEMA ${schema} CASCADE`));
    },
  };
});

describe("PostgresStore init", () => {
  it("applies each migration exactly once when five stores initialize a fresh database at once", async () => {
    // The default schema: nothing in this file's new database has created it yet.
    const schema = "workflows";
    const stores = Array.from({ length: 5 }, () => openStore());
    await Promise.all(stores.map((s) => s.init()));

    const applied = await withDb((db) =>
      db.query<{ version: number }>(`SELECT version FROM ${schema}.schema_migrations ORDER BY 1`),
    );
    expect(applied.rows.map((r) => r.version)).toEqual(migrations.map((m) => m.version));
    // Every one of them works against the schema the others helped create.
    await Promise.all(stores.map((s, i) => s.commit({ handlers: [handlerRecord(`h${i}`)] })));
    const page = await stores[0]!.listHandlers({ limit: 10 });
    expect(page.handlers.map((h) => h.handlerId).sort()).toEqual(["h0", "h1", "h2", "h3", "h4"]);
  });

  it("leaves an up-to-date schema alone when initialized again", async () => {
    const schema = freshSchema();
    const first = openStore({ schema });
    await first.init();
    await first.commit({
      handlers: [handlerRecord("kept")],
      events: [{ handlerId: "kept", events: eventRows([event(0)]) }],
    });
    const again = openStore({ schema });
    await again.init();
    await again.init();
    expect(await again.getHandler("kept")).toEqual(handlerRecord("kept"));
    expect(await again.lastSequence("kept")).toBe(0);
  });

  it("migrates a schema at version 2: its handlers read with resumeAttempts 0 and take new ones", async () => {
    const schema = freshSchema();
    await withDb(async (db) => {
      await db.query(`CREATE SCHEMA ${schema}`);
      await db.query(`SET search_path TO ${schema}`);
      for (const m of migrations.filter((m) => m.version <= 2)) await db.query(m.sql);
      await db.query(
        "CREATE TABLE schema_migrations (version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())",
      );
      await db.query("INSERT INTO schema_migrations (version, name) VALUES (1, 'v1'), (2, 'v2')");
      await db.query(
        `INSERT INTO handlers VALUES ('old', 'greet', 'run-old', 'running', 'null', NULL, $1, $1, NULL)`,
        [iso(0)],
      );
    });
    const store = openStore({ schema });
    await store.init();
    expect(await store.getHandler("old")).toEqual(handlerRecord("old", { runId: "run-old" }));
    await store.commit({ handlers: [handlerRecord("old", { runId: "run-old", resumeAttempts: 1 })] });
    expect((await store.getHandler("old"))?.resumeAttempts).toBe(1);
    // Closed now: the file's stores stay open until its end, and the database's clients are few.
    await store.close();
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
    const url = proxy.url(dbUrl);
    await proxy.down();
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

describe("PostgresStore commit", () => {
  it("writes a batch of many runs' changes and reads every part back", async () => {
    const [store] = await sharedStores(1);
    const ids = Array.from({ length: 300 }, (_, i) => `run-${String(i).padStart(3, "0")}`);
    await store!.commit({
      handlers: ids.map((id, i) => handlerRecord(id, { startedAt: iso(i) })),
      events: ids.map((id) => ({ handlerId: id, events: eventRows([event(0), event(1), event(2)]) })),
      states: ids.map((id) => ({ handlerId: id, json: stateJson(runState(3)) })),
    });
    expect(await store!.getHandler("run-042")).toEqual(handlerRecord("run-042", { startedAt: iso(42) }));
    expect(await store!.readEvents("run-299", -1, 10)).toEqual([event(0), event(1), event(2)]);
    expect(await store!.loadState("run-150")).toEqual(runState(3));
    expect((await store!.listRunning()).map((h) => h.handlerId)).toEqual(ids);
  });

  it("rejects a batch holding an already stored sequence, naming it, and writes none of the batch", async () => {
    const [store] = await sharedStores(1);
    await store!.commit({
      handlers: [handlerRecord("old")],
      events: [{ handlerId: "old", events: eventRows([event(0), event(1)]) }],
    });
    await store!.appendInbox("old", { id: "i1", event: ping(), step: null, receivedAt: iso(5) });

    const error = await store!
      .commit({
        handlers: [handlerRecord("new"), handlerRecord("old", { status: "completed", completedAt: iso(9) })],
        events: [
          { handlerId: "new", events: eventRows([event(0)]) },
          { handlerId: "old", events: eventRows([event(2), event(1)]) },
        ],
        states: [{ handlerId: "new", json: stateJson(runState(1)) }],
        inboxDone: [{ handlerId: "old", ids: ["i1"] }],
      })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SequenceConflictError);
    expect(error).toMatchObject({ handlerId: "old", sequence: 1 });

    expect(await store!.getHandler("new")).toBeNull();
    expect(await store!.loadState("new")).toBeNull();
    expect(await store!.lastSequence("new")).toBe(-1);
    expect(await store!.getHandler("old")).toEqual(handlerRecord("old"));
    expect(await store!.lastSequence("old")).toBe(1);
    expect((await store!.readInbox("old")).map((i) => i.id)).toEqual(["i1"]);
  });

  it("keeps strings Postgres's jsonb would refuse (NUL characters) in events, results and state", async () => {
    const [store] = await sharedStores(1);
    const odd = "a\u0000b \u{1F600} \\ \" '";
    await store!.commit({
      handlers: [handlerRecord("nul", { status: "completed", result: { text: odd }, completedAt: iso(1) })],
      events: [{ handlerId: "nul", events: eventRows([event(0, { text: odd })]) }],
      states: [{ handlerId: "nul", json: stateJson(runState(1, { text: odd })) }],
    });
    expect((await store!.getHandler("nul"))?.result).toEqual({ text: odd });
    expect((await store!.readEvents("nul", -1, 1))[0]?.value).toEqual({ text: odd });
    expect((await store!.loadState("nul"))?.store).toEqual({ text: odd });
  });

  it("finishes a commit in flight before close resolves, and refuses work afterwards", async () => {
    const [store, reader] = await sharedStores(2);
    const writing = store!.commit({
      handlers: [handlerRecord("last")],
      events: [{ handlerId: "last", events: eventRows([event(0)]) }],
    });
    await store!.close();
    await writing;
    expect(await reader!.getHandler("last")).toEqual(handlerRecord("last"));
    await expect(store!.getHandler("last")).rejects.toBeInstanceOf(StoreClosedError);
    await expect(store!.commit({ handlers: [handlerRecord("late")] })).rejects.toBeInstanceOf(
      StoreClosedError,
    );
  });
});

function ping() {
  return { type: "Ping", qualifiedName: "Ping", data: {} };
}

describe("PostgresStore grouped reads", () => {
  it("answers reads of many handlers asked in one turn each with its own record, state and inbox", async () => {
    const [store] = await sharedStores(1);
    const ids = Array.from({ length: 40 }, (_, i) => `h${i}`);
    await store!.commit({
      handlers: ids.map((id, i) => handlerRecord(id, { startedAt: iso(i), wakeAt: i })),
      // Every other one has a state, of its own size.
      states: ids
        .filter((_, i) => i % 2 === 0)
        .map((id, i) => ({ handlerId: id, json: stateJson(runState(i)) })),
    });
    for (const id of ["h3", "h1"])
      for (const n of [1, 2, 3])
        await store!.appendInbox(id, { id: `${id}-${n}`, event: ping(), step: null, receivedAt: iso(n) });
    // All asked in one turn, two of them twice, with handlers that do not exist.
    const asked = [...ids, "h5", "h7", "none"];
    const [records, states, inboxes] = await Promise.all([
      Promise.all(asked.map((id) => store!.getHandler(id))),
      Promise.all(asked.map((id) => store!.loadState(id))),
      Promise.all(asked.map((id) => store!.readInbox(id))),
    ]);
    asked.forEach((id, k) => {
      const i = Number(id.slice(1));
      expect(records[k]).toEqual(id === "none" ? null : handlerRecord(id, { startedAt: iso(i), wakeAt: i }));
      expect(states[k]).toEqual(id !== "none" && i % 2 === 0 ? runState(i / 2) : null);
      const inbox = id === "h1" || id === "h3" ? [1, 2, 3].map((n) => `${id}-${n}`) : [];
      expect(inboxes[k]?.map((item) => item.id)).toEqual(inbox);
    });
  });

  it("sees in a read asked after a commit what that commit wrote", async () => {
    const [store] = await sharedStores(1);
    await store!.commit({ handlers: [handlerRecord("a")] });
    const before = store!.getHandler("a");
    await store!.commit({ handlers: [handlerRecord("a", { status: "completed", completedAt: iso(1) })] });
    expect((await store!.getHandler("a"))?.status).toBe("completed");
    expect((await before)?.handlerId).toBe("a");
  });
});

describe("PostgresStore subscribe", () => {
  it("wakes a subscriber of another store instance when a commit lands", async () => {
    const [a, b] = await sharedStores(2);
    const heardByB = listen(b!);
    await a!.commit({
      handlers: [handlerRecord("h1")],
      events: [{ handlerId: "h1", events: eventRows([event(0)]) }],
    });
    await heardByB.hears(["h1"]);
    expect(heardByB.calls).toEqual([["h1"]]);
  });

  it("wakes another store's subscriber when an event is sent into a handler's inbox", async () => {
    const [a, b] = await sharedStores(2);
    const heardByB = listen(b!);
    await a!.appendInbox("waiting", { id: "i1", event: ping(), step: null, receivedAt: iso(0) });
    await heardByB.hears(["waiting"]);
  });

  it("tells a store's own subscribers about its commits once, not again when its own notice comes back", async () => {
    const [a, b] = await sharedStores(2);
    const heardByA = listen(a!);
    await a!.commit({ handlers: [handlerRecord("mine")] });
    expect(heardByA.calls).toEqual([["mine"]]);
    // b's commit is notified after a's own notice would have come back: by then a has heard everything.
    await b!.commit({ handlers: [handlerRecord("theirs")] });
    await heardByA.hears(["theirs"]);
    expect(heardByA.calls).toEqual([["mine"], ["theirs"]]);
  });

  it("delivers every id of a commit too large for one notification", async () => {
    const [a, b] = await sharedStores(2);
    const heardByB = listen(b!);
    const ids = Array.from(
      { length: 800 },
      (_, i) => `handler-with-a-rather-long-id-${String(i).padStart(4, "0")}`,
    );
    await a!.commit({ handlers: ids.map((id) => handlerRecord(id)) });
    await heardByB.hears(ids, "all 800 ids");
    expect(heardByB.calls.length).toBeGreaterThan(1);
  });

  it("delivers an id too long for any notification by asking subscribers to poll", async () => {
    const [a, b] = await sharedStores(2);
    const heardByB = listen(b!);
    const long = "x".repeat(9000);
    await a!.commit({ handlers: [handlerRecord(long)] });
    await heardByB.hears([long], "the 9000-character id");
  });

  it("splits notices under Postgres's 8000-byte limit, or asks for a poll when they would be too many", () => {
    const ids = Array.from({ length: 2000 }, (_, i) => `id-${i}-${"é".repeat(i % 50)}`);
    const payloads = noticePayloads("origin", ids);
    expect(payloads.length).toBeGreaterThan(1);
    for (const p of payloads) expect(Buffer.byteLength(p)).toBeLessThan(8000);
    expect(payloads.flatMap((p) => (JSON.parse(p) as { h: string[] }).h)).toEqual(ids);

    const many = Array.from({ length: 5000 }, (_, i) => `${"y".repeat(120)}-${i}`);
    expect(noticePayloads("origin", many).map((p) => JSON.parse(p))).toEqual([{ o: "origin", p: true }]);
  });

  it("polls while its LISTEN connection is down and listens again once it is back", async () => {
    const schema = freshSchema();
    const [a] = await sharedStores(1, { schema });
    const proxy = await startProxy();
    const states = stateWatcher();
    const b = openStore({ schema, listenConnection: proxy.url(dbUrl), pollIntervalMs: 50, ...states });
    await b.init();
    expect(b.listenState).toBe("listening");
    const heardByB = listen(b);

    const down = states.seen.length;
    await proxy.down();
    await states.reaches("polling", down);
    expect(b.listenState).toBe("polling");
    await a!.commit({
      handlers: [handlerRecord("while-down")],
      events: [{ handlerId: "while-down", events: eventRows([event(0)]) }],
    });
    await heardByB.hears(["while-down"], "the commit made while LISTEN was down (by polling)");

    const mark = states.seen.length;
    await proxy.up();
    await states.reaches("listening", mark);
    await a!.commit({ handlers: [handlerRecord("after")] });
    await heardByB.hears(["after"], "the commit made after LISTEN came back");
  });

  it("notices a LISTEN connection that stopped answering, polls meanwhile, and listens again", async () => {
    const schema = freshSchema();
    const [a] = await sharedStores(1, { schema });
    const proxy = await startProxy();
    const states = stateWatcher();
    const b = openStore({
      schema,
      listenConnection: proxy.url(dbUrl),
      pollIntervalMs: 50,
      heartbeatMs: 100,
      ...states,
    });
    await b.init();
    const heardByB = listen(b);

    const mark = states.seen.length;
    proxy.freezeOpen();
    await states.reaches("polling", mark);
    await a!.commit({ handlers: [handlerRecord("while-silent")] });
    await heardByB.hears(["while-silent"]);
    // New connections through the proxy work: the store listens again on a fresh one.
    await states.reaches("listening", mark + 1);
    await a!.commit({ handlers: [handlerRecord("after-silence")] });
    await heardByB.hears(["after-silence"]);
  });

  it("reconnects its LISTEN client after the database terminates it, missing nothing committed meanwhile", async () => {
    const schema = freshSchema();
    const [a] = await sharedStores(1, { schema });
    const states = stateWatcher();
    const appName = `wf-test-${randomBytes(4).toString("hex")}`;
    const b = new PostgresStore(
      { connectionString: dbUrl, application_name: appName, max: 2 },
      { schema, pollIntervalMs: 50, ...states },
    );
    opened.push(b);
    await b.init();
    const heardByB = listen(b);

    const mark = states.seen.length;
    const { rows } = await admin.query<{ ok: boolean }>(
      "SELECT pg_terminate_backend(pid) AS ok FROM pg_stat_activity WHERE application_name = $1",
      [`${appName}:listen`],
    );
    expect(rows).toEqual([{ ok: true }]);
    await states.reaches("polling", mark);
    await a!.commit({ handlers: [handlerRecord("meanwhile")] });
    await states.reaches("listening", mark + 1);
    await heardByB.hears(["meanwhile"]);
    await a!.commit({ handlers: [handlerRecord("later")] });
    await heardByB.hears(["later"]);
  });
});

describe("PostgresStore when the database goes away", () => {
  it("rejects with STORE_UNAVAILABLE while the database is unreachable and recovers when it is back", async () => {
    const proxy = await startProxy();
    const logged: string[] = [];
    const store = openStore({
      url: proxy.url(dbUrl),
      schema: freshSchema(),
      logger: { warn: (message) => logged.push(message) },
    });
    await store.init();
    await store.commit({ handlers: [handlerRecord("before")] });

    await proxy.down();
    await expectUnavailable(store.getHandler("before"));
    await expectUnavailable(store.commit({ handlers: [handlerRecord("during")] }));
    await expectUnavailable(store.acquireLease("before", "me", 1000));
    await expectUnavailable(
      store.commit({
        handlers: [handlerRecord("during")],
        fence: [{ handlerId: "during", owner: "me", token: 1 }],
      }),
    );

    await proxy.up();
    await store.commit({ handlers: [handlerRecord("after")] });
    expect(await store.getHandler("before")).toEqual(handlerRecord("before"));
    expect(await store.getHandler("during")).toBeNull();
    expect(await store.getHandler("after")).toEqual(handlerRecord("after"));
    expect(logged.length).toBeGreaterThan(0);
  });
});

describe("PostgresStore when the whole database is unreachable for a while", () => {
  it("catches up on what others committed meanwhile and listens again once it is back", async () => {
    const schema = freshSchema();
    const [a] = await sharedStores(1, { schema });
    const proxy = await startProxy();
    const states = stateWatcher();
    const b = openStore({ url: proxy.url(dbUrl), schema, pollIntervalMs: 50, ...states });
    await b.init();
    const heardByB = listen(b);

    const mark = states.seen.length;
    await proxy.down();
    await states.reaches("polling", mark);
    await a!.commit({ handlers: [handlerRecord("during-outage")] });
    await expectUnavailable(b.getHandler("during-outage"));
    // Polls fail while the database is away; once it is back, the store recovers by itself.
    await proxy.up();
    await states.reaches("listening", mark + 1);
    await heardByB.hears(["during-outage"]);
    await a!.commit({ handlers: [handlerRecord("after-outage")] });
    await heardByB.hears(["after-outage"]);
    expect(await b.getHandler("during-outage")).toEqual(handlerRecord("during-outage"));
  });
});

describe("PostgresStore leases", () => {
  it("is a lease store", async () => {
    const [store] = await sharedStores(1);
    expect(isLeaseStore(store!)).toBe(true);
  });

  it("grants a free lease, refuses a live one to others, and gives its owner a new token on re-acquiring", async () => {
    const [store] = await sharedStores(1);
    const first = await store!.acquireLease("h", "p1", 60_000);
    expect(first).toMatchObject({ handlerId: "h", owner: "p1" });
    expect(Date.parse(first!.expiresAt)).toBeGreaterThan(Date.now() + 30_000);
    expect(await store!.acquireLease("h", "p2", 60_000)).toBeNull();
    const again = await store!.acquireLease("h", "p1", 60_000);
    expect(again!.token).toBeGreaterThan(first!.token);
    expect(await store!.getLease("h")).toEqual(again);
  });

  it("lets exactly one of several owners racing for an expired lease win", async () => {
    const schema = freshSchema();
    const racers = await sharedStores(6, { schema });
    for (let round = 0; round < 10; round++) {
      const handlerId = `contended-${round}`;
      const old = await racers[0]!.acquireLease(handlerId, "dead-process", 0);
      const results = await Promise.all(
        racers.map((s, i) => s.acquireLease(handlerId, `owner-${i}`, 60_000)),
      );
      const winners = results.filter((r) => r !== null);
      expect(winners).toHaveLength(1);
      expect(winners[0]!.token).toBeGreaterThan(old!.token);
      expect(await racers[0]!.getLease(handlerId)).toEqual(winners[0]);
    }
  });

  it("rejects a commit fenced with a stale token and writes nothing of it", async () => {
    const [a, b] = await sharedStores(2);
    await a!.appendInbox("h", { id: "i1", event: ping(), step: null, receivedAt: iso(0) });
    const stale = await a!.acquireLease("h", "process-a", 0);
    const current = await b!.acquireLease("h", "process-b", 60_000);
    expect(current).not.toBeNull();

    const error = await a!
      .commit({
        handlers: [handlerRecord("h"), handlerRecord("other")],
        events: [{ handlerId: "h", events: eventRows([event(0)]) }],
        states: [{ handlerId: "h", json: stateJson(runState(1)) }],
        inboxDone: [{ handlerId: "h", ids: ["i1"] }],
        fence: [{ handlerId: "h", owner: "process-a", token: stale!.token }],
      })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LeaseLostError);
    // "other" has no fence in a fenced batch: refused too.
    expect((error as LeaseLostError).handlerIds).toEqual(["h", "other"]);
    expect(await b!.getHandler("h")).toBeNull();
    expect(await b!.getHandler("other")).toBeNull();
    expect(await b!.lastSequence("h")).toBe(-1);
    expect(await b!.loadState("h")).toBeNull();
    expect((await b!.readInbox("h")).map((i) => i.id)).toEqual(["i1"]);

    await b!.commit({
      handlers: [handlerRecord("h")],
      events: [{ handlerId: "h", events: eventRows([event(0)]) }],
      fence: [{ handlerId: "h", owner: "process-b", token: current!.token }],
    });
    expect(await b!.lastSequence("h")).toBe(0);
  });

  it("never lets the old owner write after a takeover returned, even with its commits in flight", async () => {
    const [a, b] = await sharedStores(2);
    for (let round = 0; round < 15; round++) {
      const handlerId = `taken-${round}`;
      const lease = await a!.acquireLease(handlerId, "old", 0);
      const fence = [{ handlerId, owner: "old", token: lease!.token }];
      const written: number[] = [];
      // The new owner takes over while the old one keeps committing, then reads what is stored.
      const takeOver = async (): Promise<number> => {
        expect(await b!.acquireLease(handlerId, "new", 60_000)).not.toBeNull();
        return b!.lastSequence(handlerId);
      };
      let takeover: Promise<number> | null = null;
      for (let sequence = 0; ; sequence++) {
        try {
          await a!.commit({ events: [{ handlerId, events: eventRows([event(sequence)]) }], fence });
          written.push(sequence);
        } catch (error) {
          if (error instanceof LeaseLostError) break;
          throw error;
        }
        if (sequence === 2) takeover = takeOver();
      }
      // Everything the old owner ever wrote was already there when the new owner looked.
      expect(await takeover).toBe(Math.max(...written));
    }
  });

  it("rejects a fenced commit whose owner does not match, even with the current token", async () => {
    const [store] = await sharedStores(1);
    const lease = await store!.acquireLease("h", "p1", 60_000);
    await expect(
      store!.commit({
        handlers: [handlerRecord("h")],
        fence: [{ handlerId: "h", owner: "p2", token: lease!.token }],
      }),
    ).rejects.toBeInstanceOf(LeaseLostError);
    expect(await store!.getHandler("h")).toBeNull();
  });

  it("accepts a fenced commit after the lease expired, as long as nobody took it over", async () => {
    const [store] = await sharedStores(1);
    const lease = await store!.acquireLease("h", "p1", 0);
    await store!.commit({
      handlers: [handlerRecord("h")],
      fence: [{ handlerId: "h", owner: "p1", token: lease!.token }],
    });
    expect(await store!.getHandler("h")).toEqual(handlerRecord("h"));
  });

  it("renews the leases its owner still holds and reports the ones it lost", async () => {
    const [store] = await sharedStores(1);
    const kept = await store!.acquireLease("kept", "p1", 0);
    await store!.acquireLease("lost", "p1", 0);
    await store!.acquireLease("lost", "p2", 60_000);
    expect(await store!.renewLeases("p1", ["kept", "lost", "never"], 60_000)).toEqual(["lost", "never"]);
    const renewed = await store!.getLease("kept");
    expect(renewed!.token).toBe(kept!.token);
    expect(Date.parse(renewed!.expiresAt)).toBeGreaterThan(Date.now() + 30_000);
    expect(await store!.acquireLease("kept", "p2", 60_000)).toBeNull();
  });

  it("lists running handlers nobody holds a live lease on, and frees a released lease for others", async () => {
    const [store] = await sharedStores(1);
    await store!.commit({
      handlers: [
        handlerRecord("never-leased", { startedAt: iso(1) }),
        handlerRecord("expired", { startedAt: iso(2) }),
        handlerRecord("held", { startedAt: iso(3) }),
        handlerRecord("released", { startedAt: iso(4) }),
        handlerRecord("done", { startedAt: iso(0), status: "completed", completedAt: iso(5) }),
      ],
    });
    await store!.acquireLease("expired", "p1", 0);
    await store!.acquireLease("held", "p1", 60_000);
    await store!.acquireLease("released", "p1", 60_000);
    expect(await store!.releaseLease("released", "p2")).toBe(false);
    expect(await store!.releaseLease("released", "p1")).toBe(true);
    expect(await store!.listExpiredRunning(10)).toEqual(["never-leased", "expired", "released"]);
    expect(await store!.listExpiredRunning(1)).toEqual(["never-leased"]);
    expect(await store!.acquireLease("released", "p2", 60_000)).not.toBeNull();
  });

  it("drops a handler's lease with the handler, so its old owner cannot write it back", async () => {
    const [store] = await sharedStores(1);
    const lease = await store!.acquireLease("purged", "p1", 60_000);
    await store!.commit({
      handlers: [handlerRecord("purged")],
      fence: [{ handlerId: "purged", owner: "p1", token: lease!.token }],
    });
    expect(await store!.deleteHandler("purged")).toBe(true);
    expect(await store!.getLease("purged")).toBeNull();
    await expect(
      store!.commit({
        handlers: [handlerRecord("purged")],
        fence: [{ handlerId: "purged", owner: "p1", token: lease!.token }],
      }),
    ).rejects.toBeInstanceOf(LeaseLostError);
    expect(await store!.getHandler("purged")).toBeNull();
  });
});
