import { spawn } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import Database from "better-sqlite3";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { eventRows, SequenceConflictError, SqliteStore, stateJson } from "../../src/stores/index.js";
import { LATEST_VERSION, migrate, migrations, StoreInUseError } from "../../src/stores/sqlite/index.js";
import {
  handlerRecord,
  inboxItem,
  publishedEvent,
  runState,
  runStoreContract,
} from "../../src/testing/store-contract/index.js";

async function tempDir(): Promise<{ dir: string; remove(): Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), "workflows-sqlite-"));
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}

// Writes on the writer thread (the default) for both durability settings, and on the calling thread.
for (const [synchronous, writer] of [
  ["full", "thread"],
  ["normal", "thread"],
  ["full", "inline"],
] as const) {
  runStoreContract(`sqlite file (synchronous ${synchronous}, ${writer} writer)`, async () => {
    const { dir, remove } = await tempDir();
    const store = new SqliteStore(join(dir, "workflows.db"), { synchronous, writer });
    await store.init();
    return {
      store,
      cleanup: async () => {
        await store.close();
        await remove();
      },
    };
  });
}

runStoreContract("sqlite :memory:", async () => {
  const store = new SqliteStore(":memory:");
  await store.init();
  return { store, cleanup: () => store.close() };
});

describe("SqliteStore on a file", () => {
  let dir: string;
  let remove: () => Promise<void>;
  const open: SqliteStore[] = [];
  const openStore = (path: string, options?: ConstructorParameters<typeof SqliteStore>[1]) => {
    const store = new SqliteStore(path, options);
    open.push(store);
    return store;
  };

  beforeEach(async () => {
    ({ dir, remove } = await tempDir());
  });

  afterEach(async () => {
    for (const store of open.splice(0)) await store.close();
    await remove();
  });

  it("keeps everything a closed store wrote for the next store that opens the file", async () => {
    const path = join(dir, "workflows.db");
    const first = openStore(path);
    await first.commit({
      handlers: [0, 1, 2].map((i) => handlerRecord(`h${i}`, { startedAt: new Date(1e12 + i).toISOString() })),
      events: [{ handlerId: "h1", events: eventRows([publishedEvent(0), publishedEvent(1, { ü: "🚀" })]) }],
      states: [{ handlerId: "h1", json: stateJson(runState({ count: 2 })) }],
    });
    await first.appendInbox("h1", inboxItem("i1"));
    const cursor = (await first.listHandlers({ limit: 1 })).nextCursor;
    await first.close();

    const second = openStore(path);
    expect(await second.getHandler("h1")).toEqual(
      handlerRecord("h1", { startedAt: new Date(1e12 + 1).toISOString() }),
    );
    expect(await second.readEvents("h1", -1, 10)).toEqual([
      publishedEvent(0),
      publishedEvent(1, { ü: "🚀" }),
    ]);
    expect(await second.lastSequence("h1")).toBe(1);
    expect(await second.loadState("h1")).toEqual(runState({ count: 2 }));
    expect(await second.readInbox("h1")).toEqual([inboxItem("i1")]);
    expect((await second.listRunning()).map((h) => h.handlerId)).toEqual(["h0", "h1", "h2"]);
    expect((await second.listHandlers({ limit: 10, cursor })).handlers.map((h) => h.handlerId)).toEqual([
      "h1",
      "h0",
    ]);
    expect(second.integrityCheck()).toBe("ok");
  });

  it("creates the parent directories of the file", async () => {
    const store = openStore(join(dir, "a", "b", "c", "workflows.db"));
    await store.commit({ handlers: [handlerRecord("h")] });
    const db = new Database(join(dir, "a", "b", "c", "workflows.db"), { readonly: true });
    expect(db.prepare("SELECT handler_id FROM handlers").pluck().all()).toEqual(["h"]);
    db.close();
  });

  it("runs in WAL mode at the latest schema version", async () => {
    const path = join(dir, "workflows.db");
    await openStore(path).init();
    const db = new Database(path);
    expect(db.pragma("journal_mode", { simple: true })).toBe("wal");
    expect(db.pragma("user_version", { simple: true })).toBe(LATEST_VERSION);
    db.close();
  });

  it("migrates an empty file", async () => {
    const path = join(dir, "empty.db");
    await writeFile(path, "");
    const store = openStore(path);
    await store.init();
    await store.commit({ handlers: [handlerRecord("h")] });
    expect(await store.getHandler("h")).toEqual(handlerRecord("h"));
    expect(store.integrityCheck()).toBe("ok");
  });

  it("changes nothing when the migrations run again on a migrated file", async () => {
    const path = join(dir, "workflows.db");
    const store = openStore(path);
    await store.commit({
      handlers: [handlerRecord("h")],
      events: [{ handlerId: "h", events: eventRows([publishedEvent(0)]) }],
    });
    await store.close();

    const db = new Database(path);
    const schema = () => db.prepare("SELECT type, name, sql FROM sqlite_master ORDER BY name").all();
    const before = schema();
    expect(migrate(db)).toEqual([]);
    expect(migrate(db)).toEqual([]);
    expect(schema()).toEqual(before);
    db.close();

    const again = openStore(path);
    await again.init();
    expect(await again.readEvents("h", -1, 10)).toEqual([publishedEvent(0)]);
  });

  it("migrates a database of the first release: its handlers read with resumeAttempts 0", async () => {
    const path = join(dir, "v1.db");
    const db = new Database(path);
    db.exec(migrations[0]?.sql ?? "");
    db.pragma("user_version = 1");
    db.prepare(
      "INSERT INTO handlers VALUES ('h', 'greet', 'run-h', 'running', 'null', NULL, ?, ?, NULL)",
    ).run(handlerRecord("h").startedAt, handlerRecord("h").updatedAt);
    db.close();
    const store = openStore(path);
    await store.init();
    expect(await store.getHandler("h")).toEqual(handlerRecord("h"));
    await store.commit({ handlers: [handlerRecord("h", { resumeAttempts: 3 })] });
    expect((await store.getHandler("h"))?.resumeAttempts).toBe(3);
  });

  it("moves the start events of a version 7 database into their handlers' rows", async () => {
    const path = join(dir, "v7.db");
    const db = new Database(path);
    for (const m of migrations.filter((m) => m.version <= 7)) db.exec(m.sql);
    db.pragma("user_version = 7");
    const insert = db.prepare(
      "INSERT INTO handlers (handler_id, workflow_name, run_id, status, result, started_at, updated_at) VALUES (?, 'greet', ?, 'running', 'null', ?, ?)",
    );
    for (const id of ["kept", "none"])
      insert.run(id, `run-${id}`, handlerRecord(id).startedAt, handlerRecord(id).updatedAt);
    const start = JSON.stringify({ type: "StartEvent", qualifiedName: "StartEvent", data: { topic: "x" } });
    db.prepare("INSERT INTO start_events (handler_id, event) VALUES ('kept', ?)").run(start);
    db.close();

    const store = openStore(path);
    await store.init();
    expect(await store.getStartEvent("kept")).toBe(start);
    expect(await store.getStartEvent("none")).toBeNull();
    expect(await store.getHandler("kept")).toEqual(handlerRecord("kept"));
    // Deleting the handler deletes its start event: there is no other table left to clean.
    await store.deleteHandler("kept");
    expect(await store.getStartEvent("kept")).toBeNull();
    await store.close();
    const after = new Database(path, { readonly: true });
    expect(after.prepare("SELECT name FROM sqlite_master WHERE name LIKE 'start_events%'").all()).toEqual([]);
    after.close();
  });

  it("keeps a start event that comes in a batch without its handler's record, and through later commits", async () => {
    // Beyond the Store contract (a start event comes with its handler's first record), a batch that
    // carries one alone still keeps it: written into the row an earlier commit made.
    const store = openStore(join(dir, "start-alone.db"));
    await store.commit({ handlers: [handlerRecord("h")] });
    expect(await store.getStartEvent("h")).toBeNull();
    const start = JSON.stringify({ type: "StartEvent", qualifiedName: "StartEvent", data: { n: 1 } });
    await store.commit({ startEvents: [{ handlerId: "h", json: start }] });
    expect(await store.getStartEvent("h")).toBe(start);
    // A later record without a start event leaves it as it is (coalesce in the upsert).
    await store.commit({ handlers: [handlerRecord("h", { status: "completed" })] });
    expect(await store.getStartEvent("h")).toBe(start);
    expect((await store.getHandler("h"))?.status).toBe("completed");
    await store.close();
  });

  it("applies every migration once to a new database", () => {
    const db = new Database(":memory:");
    expect(migrate(db)).toEqual(migrations.map((m) => m.version));
    expect(db.pragma("user_version", { simple: true })).toBe(LATEST_VERSION);
    db.close();
  });

  it("refuses a database written by a newer schema version", async () => {
    const path = join(dir, "newer.db");
    const db = new Database(path);
    db.pragma(`user_version = ${LATEST_VERSION + 1}`);
    db.close();
    await expect(openStore(path).init()).rejects.toThrow(/newer than this library/);
  });

  it("rejects a file that is not a database", async () => {
    const path = join(dir, "not.db");
    await writeFile(path, "this is not a database, just some text that is long enough to have a header");
    await expect(openStore(path).init()).rejects.toMatchObject({
      code: "STORE_UNAVAILABLE",
      message: expect.stringMatching(
        /not.db is unavailable: the file is not a SQLite database \(SQLITE_NOTADB\)/,
      ),
    });
  });

  it("refuses a second store on the file while the first has it, and lets it in once the first is closed", async () => {
    const path = join(dir, "shared.db");
    const a = openStore(path);
    await a.commit({
      handlers: [handlerRecord("h")],
      events: [{ handlerId: "h", events: eventRows([publishedEvent(0)]) }],
    });
    const b = openStore(path);
    const refused = await b.init().then(
      () => null,
      (error: unknown) => error,
    );
    expect(refused).toBeInstanceOf(StoreInUseError);
    expect(refused).toMatchObject({ code: "STORE_IN_USE", path, owner: { pid: process.pid } });
    expect((refused as Error).message).toContain(`${path} is in use by another store in this process`);
    // Refused on every use, not only init(), and nothing of `a` is disturbed.
    await expect(b.lastSequence("h")).rejects.toMatchObject({ code: "STORE_IN_USE" });
    await a.commit({ events: [{ handlerId: "h", events: eventRows([publishedEvent(1)]) }] });
    await expect(
      a.commit({ events: [{ handlerId: "h", events: eventRows([publishedEvent(1)]) }] }),
    ).rejects.toBeInstanceOf(SequenceConflictError);

    await a.close();
    expect((await b.readEvents("h", -1, 10)).map((e) => e.sequence)).toEqual([0, 1]);
  });

  it("lets any number of :memory: stores live side by side", async () => {
    const stores = [openStore(":memory:"), openStore(":memory:")];
    for (const store of stores) await store.commit({ handlers: [handlerRecord("h")] });
    expect(await Promise.all(stores.map((s) => s.getHandler("h")))).toMatchObject([
      { handlerId: "h" },
      { handlerId: "h" },
    ]);
  });

  it("rejects invalid options", () => {
    expect(() => new SqliteStore(join(dir, "x.db"), { synchronous: "off" as "full" })).toThrow(TypeError);
    expect(() => new SqliteStore(join(dir, "x.db"), { busyTimeoutMs: -1 })).toThrow(TypeError);
    expect(() => new SqliteStore(join(dir, "x.db"), { writer: "fork" as "thread" })).toThrow(TypeError);
  });

  it("writes on its writer thread: the event loop keeps turning during a large commit", async () => {
    const store = openStore(join(dir, "thread.db"));
    await store.init();
    const events = Array.from({ length: 30_000 }, (_, i) => publishedEvent(i, { padding: "x".repeat(100) }));
    let turns = 0;
    const timer = setInterval(() => turns++, 0);
    try {
      await store.commit({
        handlers: [handlerRecord("big")],
        events: [{ handlerId: "big", events: eventRows(events) }],
      });
    } finally {
      clearInterval(timer);
    }
    expect(turns).toBeGreaterThan(0);
    expect(await store.lastSequence("big")).toBe(29_999);
  });

  it("lets a process that committed and closed its store end by itself", async () => {
    const path = join(dir, "exit.db");
    const script = fileURLToPath(new URL("./fixtures/commit-and-close.ts", import.meta.url));
    const child = spawn(process.execPath, ["--import", "tsx", script, path], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    child.stdout.on("data", (chunk: Buffer) => {
      out += chunk.toString();
    });
    const code = await new Promise<number | null>((resolve) => child.on("exit", (c) => resolve(c)));
    expect({ code, out }).toEqual({ code: 0, out: "closed\n" });
    expect((await openStore(path).getHandler("h"))?.status).toBe("running");
  });
});
