import { WorkflowError } from "../../core/index.js";

// SQLite's primary result codes that mean "the file cannot take (or give) data now", not "our SQL
// is wrong": each with what a person reads about it. Extended codes (SQLITE_IOERR_WRITE, …) match
// their primary code.
const UNAVAILABLE_SQLITE: Record<string, string> = {
  SQLITE_FULL: "the disk is full",
  SQLITE_READONLY: "the database is read-only",
  SQLITE_IOERR: "the disk reported an I/O error",
  SQLITE_BUSY: "another connection holds the database's lock beyond the busy timeout",
  SQLITE_LOCKED: "the database is locked",
  SQLITE_CORRUPT: "the database file is corrupt",
  SQLITE_NOTADB: "the file is not a SQLite database",
  SQLITE_CANTOPEN: "the file cannot be opened",
  SQLITE_PERM: "permission denied",
  SQLITE_NOLFS: "the file system does not support large files",
  SQLITE_PROTOCOL: "the database's locking protocol failed",
};

// The file system's errors when opening the file or creating its folder.
const UNAVAILABLE_ERRNO: Record<string, string> = {
  ENOSPC: "the disk is full",
  EDQUOT: "the disk quota is exhausted",
  EROFS: "the file system is read-only",
  EACCES: "permission denied",
  EPERM: "the operation is not permitted",
  EIO: "the disk reported an I/O error",
  ENOTDIR: "a component of the path is not a folder",
};

/** `SQLITE_IOERR_WRITE` → `SQLITE_IOERR`. */
function primary(code: string): string {
  const match = /^SQLITE_[A-Z]+/.exec(code);
  return match ? match[0] : code;
}

/** The human reason when `error` means the store cannot be used now; null otherwise. */
function unavailableReason(error: unknown): string | null {
  // By code, not class: an error from the writer thread may arrive as a plain Error with its code.
  const code = (error as { code?: unknown } | null)?.code;
  if (!(error instanceof Error) || typeof code !== "string") return null;
  const reason = code.startsWith("SQLITE_")
    ? UNAVAILABLE_SQLITE[primary(code)]
    : Object.hasOwn(UNAVAILABLE_ERRNO, code)
      ? UNAVAILABLE_ERRNO[code]
      : undefined;
  return reason === undefined ? null : `${reason} (${code})`;
}

/**
 * Turns the SQLite and file-system errors that mean "the store cannot take writes now" (a full
 * disk, a read-only or vanished file, an I/O error, a lock held too long, a corrupt file) into
 * `STORE_UNAVAILABLE` naming the cause and the file (the server answers 503). Anything else, our
 * own SQL's constraint violations and the store's coded errors included, passes through unchanged.
 */
export function toStoreError(error: unknown, path: string): unknown {
  if (error instanceof WorkflowError) return error;
  const reason = unavailableReason(error);
  if (reason === null) return error;
  return new WorkflowError("STORE_UNAVAILABLE", `The SQLite store ${path} is unavailable: ${reason}`, {
    cause: error,
  });
}
