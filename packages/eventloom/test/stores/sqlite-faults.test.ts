// A SqliteStore on a file that fails under it: another process on the file, the file deleted, a full
// disk, a read-only file or file system, a lock held too long. Real files, real mounts, real processes.
import { execFileSync, spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, statfsSync, unlinkSync, writeFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import Database from "better-sqlite3";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type EventRow, type HandlerRecord, SqliteStore } from "../../src/stores/index.js";
import { StoreInUseError } from "../../src/stores/sqlite/index.js";

const isRoot = process.getuid?.() === 0;
const AT = "2026-01-01T00:00:00.000Z";

const handlerRecord = (handlerId: string): HandlerRecord => ({
  handlerId,
  workflowName: "greet",
  runId: `run-${handlerId}`,
  status: "running",
  result: null,
  error: null,
  startedAt: AT,
  updatedAt: AT,
  completedAt: null,
});

/** Stream events `from`..`to` of handler "h", each carrying `text`. */
const events = (from: number, to: number, text = ""): { handlerId: string; events: EventRow[] }[] => [
  {
    handlerId: "h",
    events: Array.from({ length: to - from + 1 }, (_, i) => ({
      sequence: from + i,
      json: JSON.stringify({ sequence: from + i, type: "StreamEvent", value: { text }, timestamp: AT }),
    })),
  },
];

/** Runs a command; false when it fails (no permission, a file system without the feature). */
function tryRun(command: string, args: string[]): boolean {
  try {
    execFileSync(command, args, { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

/** Whether `chattr +i` works on files in the temp folder (root on a file system with attributes). */
function chattrWorks(): boolean {
  if (!isRoot) return false;
  const dir = mkdtempSync(join(tmpdir(), "eventloom-chattr-"));
  const file = join(dir, "probe");
  writeFileSync(file, "");
  const works = tryRun("chattr", ["+i", file]);
  if (works) tryRun("chattr", ["-i", file]);
  rmSync(dir, { recursive: true, force: true });
  return works;
}

/** A tmpfs of `bytes` mounted on a new folder (root only). */
function mountTmpfs(bytes: number): { dir: string; unmount(): void } {
  const dir = mkdtempSync(join(tmpdir(), "eventloom-tmpfs-"));
  execFileSync("mount", ["-t", "tmpfs", "-o", `size=${bytes}`, "tmpfs", dir]);
  return {
    dir,
    unmount: () => {
      execFileSync("umount", [dir]);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

const freeBytes = (dir: string): number => {
  const s = statfsSync(dir);
  return s.bavail * s.bsize;
};

let dir: string;
const open: SqliteStore[] = [];
const undo: (() => unknown)[] = [];
const openStore = (path: string, options?: ConstructorParameters<typeof SqliteStore>[1]) => {
  const store = new SqliteStore(path, options);
  open.push(store);
  return store;
};

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "eventloom-sqlite-faults-"));
});

afterEach(async () => {
  for (const store of open.splice(0)) await store.close();
  for (const u of undo.splice(0).reverse()) await u();
  await rm(dir, { recursive: true, force: true });
});

const refusal = (promise: Promise<unknown>) =>
  promise.then(
    () => {
      throw new Error("expected a refusal");
    },
    (error: unknown) => error as Error & { code?: string },
  );

describe("a second process on a SqliteStore's file", () => {
  it("is refused with the first's pid, host and start, and gets the file once the first is SIGKILLed", async () => {
    const path = join(dir, "w.db");
    const script = fileURLToPath(new URL("./fixtures/hold-file.ts", import.meta.url));
    const child = spawn(process.execPath, ["--import", "tsx", script, path], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on("exit", (_c, s) => resolve(s)));
    try {
      await new Promise<void>((resolve, reject) => {
        child.stdout.on("data", (chunk: Buffer) => {
          if (chunk.toString().includes("held")) resolve();
        });
        child.on("exit", () => reject(new Error("the holder exited early")));
      });
      const store = openStore(path);
      const error = await refusal(store.init());
      expect(error).toBeInstanceOf(StoreInUseError);
      expect(error).toMatchObject({ code: "STORE_IN_USE", owner: { pid: child.pid, host: hostname() } });
      expect(error.message).toMatch(
        new RegExp(
          `^${path.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")} is in use by another eventloom process \\(pid ${child.pid} on host ${hostname()} since \\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z\\)`,
        ),
      );

      child.kill("SIGKILL");
      expect(await exited).toBe("SIGKILL");
      // The OS dropped the dead process's lock: the same store opens the file on its next use.
      expect(await store.getHandler("held")).toMatchObject({ status: "running" });
      await store.commit({ handlers: [handlerRecord("after")] });
    } finally {
      child.kill("SIGKILL");
    }
  });
});

describe("processes that start on one SqliteStore file at the same moment", () => {
  it("let exactly one of them have it; the others are refused naming it", async () => {
    const path = join(dir, "w.db");
    const script = fileURLToPath(new URL("./fixtures/hold-file.ts", import.meta.url));
    const children = Array.from({ length: 3 }, () => {
      const child = spawn(process.execPath, ["--import", "tsx", script, path], {
        stdio: ["ignore", "pipe", "pipe"],
      });
      let out = "";
      let err = "";
      child.stdout.on("data", (chunk: Buffer) => {
        out += chunk.toString();
      });
      child.stderr.on("data", (chunk: Buffer) => {
        err += chunk.toString();
      });
      const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
      return { child, exited, out: () => out, err: () => err };
    });
    try {
      // Each child either holds the file (and runs on) or exits refused.
      const outcome = (c: (typeof children)[number]) =>
        new Promise<"held" | "refused">((resolve) => {
          c.child.stdout.on("data", () => c.out().includes("held") && resolve("held"));
          void c.exited.then(() => resolve(c.out().includes("held") ? "held" : "refused"));
        });
      const outcomes = await Promise.all(children.map(outcome));
      expect(outcomes.filter((o) => o === "held")).toHaveLength(1);
      const holder = children[outcomes.indexOf("held")];
      for (const [i, c] of children.entries()) {
        if (outcomes[i] === "held") continue;
        expect(await c.exited).not.toBe(0);
        expect(c.err()).toContain(`is in use by another eventloom process (pid ${holder?.child.pid} `);
      }
    } finally {
      for (const c of children) c.child.kill("SIGKILL");
    }
  });
});

describe.each(["thread", "inline"] as const)("a SqliteStore whose file is deleted (%s writer)", (writer) => {
  it("refuses every write with STORE_UNAVAILABLE naming the file, and acknowledges nothing", async () => {
    const path = join(dir, "w.db");
    const store = openStore(path, { writer });
    await store.commit({ handlers: [handlerRecord("before")] });
    for (const suffix of ["", "-wal", "-shm"]) unlinkSync(`${path}${suffix}`);

    for (const write of [
      () => store.commit({ handlers: [handlerRecord("after")] }),
      () => store.commit({ handlers: [handlerRecord("again")] }),
      () =>
        store.appendInbox("before", {
          id: "i1",
          event: { type: "ResponseEvent", qualifiedName: "ResponseEvent", data: {} },
          step: null,
          receivedAt: AT,
        }),
      () => store.deleteHandler("before"),
    ]) {
      const error = await refusal(write());
      expect(error.code).toBe("STORE_UNAVAILABLE");
      expect(error.message).toBe(
        `The SQLite store ${path} is unavailable: ${path} was deleted or replaced while the store had it open; writes are refused until the server restarts`,
      );
    }
    await store.close();
    // A restart finds the file as it is on disk: nothing the store refused is there.
    const next = openStore(path);
    expect((await next.listHandlers({ limit: 10 })).handlers).toEqual([]);
  });

  it("refuses the first write too when the file was deleted after the store opened it, and creates no file", async () => {
    const path = join(dir, "w.db");
    const store = openStore(path, { writer });
    await store.init();
    for (const suffix of ["", "-wal", "-shm"]) rmSync(`${path}${suffix}`, { force: true });

    const error = await refusal(store.commit({ handlers: [handlerRecord("after")] }));
    expect(error.code).toBe("STORE_UNAVAILABLE");
    expect(error.message).toContain(`${path} was deleted or replaced while the store had it open`);
    expect(existsSync(path)).toBe(false);
  });
});

describe("a SqliteStore whose file cannot take writes", () => {
  it.skipIf(!isRoot)(
    "answers a full disk with STORE_UNAVAILABLE (SQLITE_FULL), keeps nothing of that commit, and writes again once space is freed (mounts a tmpfs: root only)",
    async () => {
      const fs = mountTmpfs(4 * 1024 * 1024);
      undo.push(fs.unmount);
      const path = join(fs.dir, "w.db");
      const store = new SqliteStore(path);
      undo.push(() => store.close());
      await store.commit({ handlers: [handlerRecord("h")], events: events(0, 0) });
      const filler = join(fs.dir, "filler");
      writeFileSync(filler, Buffer.alloc(freeBytes(fs.dir) - 16 * 1024));

      const big = events(1, 50, "x".repeat(4000));
      const error = await refusal(store.commit({ events: big }));
      expect(error.code).toBe("STORE_UNAVAILABLE");
      expect(error.message).toMatch(
        new RegExp(`^The SQLite store ${path} is unavailable: the disk is full \\(SQLITE_FULL\\)$`),
      );
      expect(await store.lastSequence("h")).toBe(0);

      unlinkSync(filler);
      await store.commit({ events: big });
      expect(await store.lastSequence("h")).toBe(50);
    },
  );

  it.skipIf(!chattrWorks())(
    "answers a file made immutable under it (chattr +i) with STORE_UNAVAILABLE (root only)",
    async () => {
      const path = join(dir, "w.db");
      const store = openStore(path);
      await store.commit({ handlers: [handlerRecord("h")] });
      execFileSync("chattr", ["+i", path, `${path}-wal`]);
      undo.push(() => execFileSync("chattr", ["-i", path, `${path}-wal`]));

      const error = await refusal(store.commit({ handlers: [handlerRecord("h2")] }));
      expect(error.code).toBe("STORE_UNAVAILABLE");
      expect(error.message).toMatch(
        / is unavailable: the disk reported an I\/O error \(SQLITE_IOERR_WRITE\)$/,
      );
      expect(await store.getHandler("h2")).toBeNull();
      expect(await store.getHandler("h")).not.toBeNull();
    },
  );

  it.skipIf(!chattrWorks())(
    "answers writes to a database file that is immutable when the store opens it with STORE_UNAVAILABLE (SQLITE_READONLY), and reads it (root only)",
    async () => {
      const path = join(dir, "w.db");
      const first = openStore(path);
      await first.commit({ handlers: [handlerRecord("h")] });
      await first.close();
      execFileSync("chattr", ["+i", path]);
      undo.push(() => execFileSync("chattr", ["-i", path]));

      const store = openStore(path);
      expect(await store.getHandler("h")).not.toBeNull();
      const error = await refusal(store.commit({ handlers: [handlerRecord("h2")] }));
      expect(error.code).toBe("STORE_UNAVAILABLE");
      expect(error.message).toBe(
        `The SQLite store ${path} is unavailable: the database is read-only (SQLITE_READONLY)`,
      );
    },
  );

  it.skipIf(!isRoot)(
    "answers a read-only file system with STORE_UNAVAILABLE naming the file (remounts a tmpfs read-only: root only)",
    async () => {
      const fs = mountTmpfs(4 * 1024 * 1024);
      undo.push(fs.unmount);
      const path = join(fs.dir, "w.db");
      const first = new SqliteStore(path);
      await first.commit({ handlers: [handlerRecord("h")] });
      await first.close();
      execFileSync("mount", ["-o", "remount,ro", fs.dir]);

      const store = new SqliteStore(path);
      const error = await refusal(store.init());
      await store.close();
      expect(error.code).toBe("STORE_UNAVAILABLE");
      expect(error.message).toMatch(
        // The first write the store tries is taking its lock, in the side file.
        new RegExp(
          `^The SQLite store ${path}-lock is unavailable: the database is read-only \\(SQLITE_READONLY`,
        ),
      );
    },
  );

  it("answers a lock held beyond the busy timeout with STORE_UNAVAILABLE (SQLITE_BUSY), and writes once it is released", async () => {
    const path = join(dir, "w.db");
    const store = openStore(path, { busyTimeoutMs: 100 });
    await store.commit({ handlers: [handlerRecord("h")] });
    // What a backup tool or the sqlite3 shell does when it writes.
    const other = new Database(path);
    other.exec("BEGIN IMMEDIATE");
    try {
      const error = await refusal(store.commit({ handlers: [handlerRecord("h2")] }));
      expect(error.code).toBe("STORE_UNAVAILABLE");
      expect(error.message).toMatch(
        / is unavailable: another connection holds the database's lock beyond the busy timeout \(SQLITE_BUSY\)$/,
      );
    } finally {
      other.exec("ROLLBACK");
      other.close();
    }
    await store.commit({ handlers: [handlerRecord("h2")] });
    expect(await store.getHandler("h2")).not.toBeNull();
  });
});
