import { type BigIntStats, statSync } from "node:fs";
import { WorkflowError } from "../../core/index.js";

/** Which file a path leads to. */
export interface FileIdentity {
  dev: bigint;
  ino: bigint;
}

/** The identity of the file at `path` now; null when there is none. */
export function identityOf(path: string): FileIdentity | null {
  let stats: BigIntStats | undefined;
  try {
    stats = statSync(path, { bigint: true, throwIfNoEntry: false });
  } catch {
    return null; // ENOTDIR, EACCES on a folder: the path no longer leads to our file either
  }
  return stats === undefined ? null : { dev: stats.dev, ino: stats.ino };
}

const same = (a: FileIdentity, b: FileIdentity | null): boolean =>
  b !== null && a.dev === b.dev && a.ino === b.ino;

/**
 * Notices that the database file (or its WAL) was deleted or replaced while a connection has it
 * open. SQLite goes on writing to the unlinked file, so commits would be acknowledged and then lost
 * at the next start: after each write the guard checks that the paths still lead to the files the
 * connection opened (two `stat` calls), and from the first mismatch on refuses every write with
 * `STORE_UNAVAILABLE`. The write that noticed it did land, in the deleted file only: its caller gets
 * the error too, as for a commit whose outcome is unknown.
 */
export class FileGuard {
  readonly #path: string;
  readonly #file: FileIdentity | null;
  #wal: FileIdentity | null = null;
  #lost: string | null = null;

  /**
   * `file` is the identity of the file the store opened (taken by the main thread right after it
   * opened it): a writer thread started later must write to that file, not to a new one at the path.
   */
  constructor(path: string, file: FileIdentity | null) {
    this.#path = path;
    this.#file = file;
    if (file !== null && !same(file, identityOf(path))) this.#lost = `${path} was deleted or replaced`;
  }

  /** Throws when an earlier check found the file gone: nothing more is written to it. */
  before(): void {
    if (this.#lost !== null) throw this.#error();
  }

  /** Throws when the file or its WAL is no longer at its path (after the write, before it is acknowledged). */
  after(): void {
    if (this.#file !== null && !same(this.#file, identityOf(this.#path))) {
      this.#lost = `${this.#path} was deleted or replaced`;
    } else {
      // The WAL exists from the connection's first write until the last connection closes.
      const wal = identityOf(`${this.#path}-wal`);
      this.#wal ??= wal;
      if (this.#wal !== null && !same(this.#wal, wal))
        this.#lost = `${this.#path}-wal was deleted or replaced`;
    }
    if (this.#lost !== null) throw this.#error();
  }

  #error(): WorkflowError {
    return new WorkflowError(
      "STORE_UNAVAILABLE",
      `The SQLite store ${this.#path} is unavailable: ${this.#lost} while the store had it open; writes are refused until the server restarts`,
    );
  }
}
