import { randomBytes } from "node:crypto";
import pg from "pg";
import { afterAll, beforeAll } from "vitest";

/** The server the Postgres tests use (the machine's, unless WORKFLOWS_TEST_POSTGRES names another). */
export const ADMIN_URL =
  process.env["WORKFLOWS_TEST_POSTGRES"] ?? "postgres://postgres@127.0.0.1:5432/postgres";

/**
 * Gives a test file a database of its own: created before its tests, dropped after them.
 * `url` is its connection string once the file's `beforeAll` hooks have run.
 */
export function useFreshDatabase(prefix: string): { readonly url: string } {
  let admin: pg.Client | null = null;
  let name = "";
  let url = "";
  beforeAll(async () => {
    admin = new pg.Client({ connectionString: ADMIN_URL, connectionTimeoutMillis: 5000 });
    await admin.connect();
    name = `${prefix}_${randomBytes(6).toString("hex")}`;
    await admin.query(`CREATE DATABASE ${name}`);
    const u = new URL(ADMIN_URL);
    u.pathname = `/${name}`;
    url = u.toString();
  });
  afterAll(async () => {
    if (name) await admin?.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await admin?.end();
  });
  return {
    get url() {
      return url;
    },
  };
}
