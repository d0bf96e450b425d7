import { resolve } from "node:path";
import { SqliteStore } from "../stores/sqlite/index.js";
import type { Store } from "../stores/store.js";

interface PostgresModule {
  PostgresStore: new (connection: string) => Store;
}

// A variable specifier keeps the Postgres store (and `pg`) out of the import graph of SQLite users.
const POSTGRES_MODULE = "../stores/postgres/index.js";

/**
 * The store a server uses when given none: `WORKFLOWS_DB` names it (a SQLite path, `:memory:`, or a
 * `postgres://` URL), else `.workflows/workflows.db` under the working directory.
 */
export async function createDefaultStore(env: NodeJS.ProcessEnv = process.env): Promise<Store> {
  const configured = env["WORKFLOWS_DB"]?.trim();
  if (configured && /^postgres(ql)?:\/\//i.test(configured)) {
    const module = (await import(POSTGRES_MODULE)) as PostgresModule;
    return new module.PostgresStore(configured);
  }
  if (configured === ":memory:") return new SqliteStore(":memory:");
  return new SqliteStore(resolve(configured || ".workflows/workflows.db"));
}
