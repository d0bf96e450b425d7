import { randomBytes } from "node:crypto";
import pg from "pg";
import { afterAll, beforeAll, beforeEach } from "vitest";
import { ADMIN_URL } from "./postgres-url.js";
import { requireProvided } from "./provided.js";

export { ADMIN_URL };

/**
 * A connection to the tests' PostgreSQL server as its admin. Fails with one line saying what to do
 * when there is none: the Postgres tests never skip, in CI or anywhere else.
 */
export async function connectAdmin(): Promise<pg.Client> {
  const admin = new pg.Client({ connectionString: ADMIN_URL, connectionTimeoutMillis: 5000 });
  try {
    await admin.connect();
    return admin;
  } catch (error) {
    requireProvided("postgres", error); // the global setup's reason, when it found none
    throw new Error(
      `PostgreSQL is not reachable at ${ADMIN_URL} (${(error as Error).message}). These tests need a real ` +
        "server: check with `pg_isready -h 127.0.0.1`, start it with " +
        "`pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start`, " +
        "or point WORKFLOWS_TEST_POSTGRES at another one.",
    );
  }
}

/**
 * Runs `setup` once before a file's tests, like `beforeAll`; when it fails, every test of the file
 * fails with its error (a failing `beforeAll` would only mark them skipped).
 */
export function beforeAllOrFailEach(setup: () => Promise<void>): void {
  let failure: unknown;
  let failed = false;
  beforeAll(async () => {
    try {
      await setup();
    } catch (error) {
      failed = true;
      failure = error;
    }
  });
  beforeEach(() => {
    if (failed) throw failure;
  });
}

/**
 * Gives a test file a database of its own: created before its tests, dropped after them.
 * `url` is its connection string once the file's `beforeAll` hooks have run.
 */
export function useFreshDatabase(prefix: string): { readonly url: string } {
  let admin: pg.Client | null = null;
  let name = "";
  let url = "";
  beforeAllOrFailEach(async () => {
    admin = await connectAdmin();
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
