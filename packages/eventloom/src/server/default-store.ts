import { resolve } from "node:path";
import { SqliteStore } from "../stores/sqlite/index.js";
import type { Store } from "../stores/store.js";

interface PostgresModule {
  PostgresStore: new (connection: string) => Store;
}

// A variable specifier keeps the Postgres store (and `pg`, an optional peer) out of the import graph
// of SQLite users: it is loaded only when WORKFLOWS_DB names a Postgres database.
const POSTGRES_MODULE = "../stores/postgres/index.js";

/**
 * The store a server uses when given none: `WORKFLOWS_DB` names it (a SQLite path, `:memory:`, or a
 * `postgres://` URL), else `.workflows/workflows.db` under the working directory.
 * Rejects with one line naming `npm install pg` when a Postgres URL is given and `pg` is not installed.
 */
export async function createDefaultStore(env: NodeJS.ProcessEnv = process.env): Promise<Store> {
  const configured = env["WORKFLOWS_DB"]?.trim();
  if (configured && /^postgres(ql)?:\/\//i.test(configured)) {
    const module = await importPostgres(POSTGRES_MODULE);
    return new module.PostgresStore(configured);
  }
  if (configured === ":memory:") return new SqliteStore(":memory:");
  return new SqliteStore(resolve(configured || ".workflows/workflows.db"));
}

/** Imports the Postgres store; a missing `pg` package becomes an error that says what to install. */
export async function importPostgres(specifier: string): Promise<PostgresModule> {
  try {
    return (await import(specifier)) as PostgresModule;
  } catch (error) {
    if (isMissingPg(error)) {
      throw new Error(
        "WORKFLOWS_DB is a postgres:// URL but the `pg` package is not installed: run `npm install pg`",
        { cause: error },
      );
    }
    throw error;
  }
}

function isMissingPg(error: unknown): boolean {
  const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown };
  if (code !== "ERR_MODULE_NOT_FOUND" && code !== "MODULE_NOT_FOUND") return false;
  return typeof message === "string" && /['"]pg['"]/.test(message);
}
