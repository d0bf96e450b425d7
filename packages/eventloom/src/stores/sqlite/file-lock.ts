import { hostname } from "node:os";
import Database from "better-sqlite3";
import { WorkflowError } from "../../core/index.js";
import { toStoreError } from "./store-errors.js";

/** Who holds a SQLite file: what the lock's side file says about the process that took it. */
export interface FileOwner {
  pid: number;
  host: string;
  /** When it took the file, ISO 8601 UTC. */
  since: string;
}

/**
 * Thrown by a {@link SqliteStore}'s `init()` (or first use) when another store, in another process
 * or this one, has the file open: two servers on one SQLite file would run the same handlers twice.
 * `owner` is null when the other process had not yet written who it is.
 */
export class StoreInUseError extends WorkflowError {
  declare readonly code: "STORE_IN_USE";
  readonly path: string;
  readonly owner: FileOwner | null;

  constructor(path: string, owner: FileOwner | null) {
    super("STORE_IN_USE", describe(path, owner));
    this.path = path;
    this.owner = owner;
  }
}

function describe(path: string, owner: FileOwner | null): string {
  const who =
    owner === null
      ? "another eventloom process"
      : owner.pid === process.pid && owner.host === hostname()
        ? `another store in this process (pid ${owner.pid})`
        : `another eventloom process (pid ${owner.pid} on host ${owner.host} since ${owner.since})`;
  return `${path} is in use by ${who}; stop it first, or give this one another file (WORKFLOWS_DB)`;
}

/** Held while a store has its file open; `release()` lets the next process take it. */
export interface FileLock {
  release(): void;
}

/** How long reading or writing the owner row waits for the other side's short transactions. */
const OWNER_BUSY_MS = 2000;

/**
 * Takes the file at `path` for this store, or throws {@link StoreInUseError}. The lock is SQLite's
 * own (fcntl) write lock on a small side database `<path>-lock`, held by a transaction left open:
 * the OS drops it when the process ends, even by SIGKILL, so a crash never leaves a stale lock.
 * The side database also keeps the owner's pid, host and start time, committed before the lock is
 * taken for good (a write transaction, then a second one kept open), so that a second process can
 * name the first; a refused process that reads it while the holder is still writing it waits for it.
 */
export function lockFile(path: string): FileLock {
  try {
    return takeLock(path);
  } catch (error) {
    // A fault of the side file (read-only, full, not a database) names the side file.
    throw toStoreError(error, `${path}-lock`);
  }
}

function takeLock(path: string): FileLock {
  const db = new Database(`${path}-lock`, { timeout: OWNER_BUSY_MS });
  try {
    db.exec(
      `CREATE TABLE IF NOT EXISTS owner (
         id INTEGER PRIMARY KEY CHECK (id = 1), pid INTEGER NOT NULL, host TEXT NOT NULL, since TEXT NOT NULL)`,
    );
    const host = hostname();
    const gone = (o: FileOwner) => o.host === host && !isAlive(o.pid);
    // Refused: the holder may still be writing its row over a dead process's (or none).
    if (!tryBegin(db))
      throw new StoreInUseError(
        path,
        settledOwner(db, (o) => o === null || gone(o)),
      );
    db.prepare("INSERT OR REPLACE INTO owner (id, pid, host, since) VALUES (1, ?, ?, ?)").run(
      process.pid,
      host,
      new Date().toISOString(),
    );
    db.exec("COMMIT");
    // Another process may have taken the file between COMMIT and here: then it is the owner.
    if (!tryBegin(db)) {
      const stale = (o: FileOwner | null) =>
        o === null || gone(o) || (o.host === host && o.pid === process.pid);
      throw new StoreInUseError(path, settledOwner(db, stale));
    }
  } catch (error) {
    db.close();
    throw error;
  }
  return { release: () => db.close() };
}

/** BEGIN IMMEDIATE without waiting: false when another connection holds the write lock. */
function tryBegin(db: Database.Database): boolean {
  db.pragma("busy_timeout = 0");
  try {
    db.exec("BEGIN IMMEDIATE");
    return true;
  } catch (error) {
    if (error instanceof Database.SqliteError && error.code.startsWith("SQLITE_BUSY")) return false;
    throw error;
  } finally {
    db.pragma(`busy_timeout = ${OWNER_BUSY_MS}`);
  }
}

/** How long a refused store waits for the holder to write who it is (it does so within milliseconds). */
const SETTLE_MS = 500;
const SETTLE_STEP_MS = 10;

/** The owner row, read again for up to SETTLE_MS while `stale` says it cannot be the holder's yet. */
function settledOwner(db: Database.Database, stale: (owner: FileOwner | null) => boolean): FileOwner | null {
  let owner = readOwner(db);
  const pause = new Int32Array(new SharedArrayBuffer(4));
  for (let waited = 0; stale(owner) && waited < SETTLE_MS; waited += SETTLE_STEP_MS) {
    // A refused start waits once, briefly, with nothing else to do: a synchronous pause is fine.
    Atomics.wait(pause, 0, 0, SETTLE_STEP_MS);
    owner = readOwner(db);
  }
  return owner;
}

/** Whether a process with this pid runs on this host (EPERM: it does, as another user). */
function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as { code?: unknown }).code === "EPERM";
  }
}

function readOwner(db: Database.Database): FileOwner | null {
  try {
    const row = db.prepare("SELECT pid, host, since FROM owner WHERE id = 1").get() as FileOwner | undefined;
    return row ?? null;
  } catch {
    // Who holds it is a courtesy; that it is held is what counts.
    return null;
  }
}
