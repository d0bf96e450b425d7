import Database from "better-sqlite3";

/** Reads a SQLite file on a connection of its own, read only, closed at once. */
export function readSqliteFile<T>(path: string, read: (db: Database.Database) => T): T {
  const db = new Database(path, { readonly: true });
  try {
    return read(db);
  } finally {
    db.close();
  }
}

/** The file's `auto_vacuum` (0 none, 2 incremental) and whether it has the index of ended handlers. */
export const retentionReadiness = (path: string): [number, boolean] =>
  readSqliteFile(path, (db) => [
    db.pragma("auto_vacuum", { simple: true }) as number,
    db.prepare("SELECT 1 FROM sqlite_master WHERE name = 'handlers_ended'").get() !== undefined,
  ]);
