// PostgreSQL at 127.0.0.1:5432 (user postgres, trust auth) for the Postgres store's tests: the
// machine's server when it answers, else Debian's cluster started (and first installed, as root).
import { readFileSync, writeFileSync } from "node:fs";
import pg from "pg";
import { ADMIN_URL } from "./postgres-url.js";
import { canApt, onPath, run } from "./system.js";
import { eventually } from "./until.js";

/** Connects and asks one query; null when the server answers, else why not. */
export async function postgresAnswer(url = ADMIN_URL): Promise<string | null> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 });
  client.on("error", () => undefined); // a server going away after the query is not this check's business
  try {
    await client.connect();
    await client.query("SELECT 1");
    return null;
  } catch (error) {
    return (error as Error).message || String(error);
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** The server is on this machine: one this setup may start. */
const local = (url = ADMIN_URL): boolean => ["127.0.0.1", "localhost"].includes(new URL(url).hostname);
const port = (): string => new URL(ADMIN_URL).port || "5432";

/**
 * What to install so that a server can be started here: null when nothing can or need be. A server
 * that already answers at `url` is used as it is (whoever runs it): nothing is installed then.
 */
export async function postgresPackages(url = ADMIN_URL): Promise<string[] | null> {
  if (!local(url) || onPath("pg_ctlcluster") || !canApt()) return null;
  return (await postgresAnswer(url)) === null ? null : ["postgresql"];
}

/** Debian's cluster that listens on the tests' port ("15 main"), if there is one. */
async function clusterOnPort(): Promise<{ version: string; name: string } | undefined> {
  const lines = (await run("pg_lsclusters", ["-h"])).split("\n");
  const [version, name] = lines.find((line) => line.split(/\s+/)[2] === port())?.split(/\s+/) ?? [];
  return version && name ? { version, name } : undefined;
}

/**
 * A fresh Debian install asks for passwords on TCP: let the postgres user in from 127.0.0.1 without
 * one, as the tests expect (only done on a cluster this setup has just installed).
 */
function trustLocalPostgres(version: string, name: string): void {
  const hba = `/etc/postgresql/${version}/${name}/pg_hba.conf`;
  const text = readFileSync(hba, "utf8");
  const line = "host all postgres 127.0.0.1/32 trust";
  if (!text.includes(line)) writeFileSync(hba, `${line}\n${text}`);
}

/**
 * Makes the server answer if it can: starts Debian's cluster on the tests' port when nothing answers
 * there. Returns null when the server answers, else one line saying what to do.
 */
export async function providePostgres(justInstalled: boolean, installError?: string): Promise<string | null> {
  let why = await postgresAnswer();
  if (why === null) return null;
  if (local() && onPath("pg_lsclusters") && process.getuid?.() === 0) {
    try {
      const cluster = await clusterOnPort();
      if (!cluster) throw new Error(`no cluster of Debian's listens on port ${port()} (pg_lsclusters)`);
      const { version, name } = cluster;
      if (justInstalled) trustLocalPostgres(version, name);
      // restart, not start: a cluster the install left running must read the new pg_hba.conf
      const action = justInstalled ? "restart" : "start";
      await run("pg_ctlcluster", ["--skip-systemctl-redirect", version, name, action]).catch(
        async (error: Error) => {
          // "already running" (another test run started it meanwhile) is fine; anything else is not
          if ((await postgresAnswer()) !== null) throw error;
        },
      );
      let last: string | null = why;
      await eventually(
        "PostgreSQL to answer",
        async () => {
          last = await postgresAnswer();
          return last === null ? true : undefined;
        },
        { timeoutMs: 30_000, intervalMs: 200 },
      ).catch(() => {
        throw new Error(`it runs but does not let the tests in: ${last}`);
      });
      process.stderr.write(`test setup: started PostgreSQL ${version} (cluster ${name}) on port ${port()}\n`);
      return null;
    } catch (error) {
      why = `${why}; starting it failed: ${(error as Error).message}`;
    }
  } else if (installError) {
    why = `${why}; installing it failed: ${installError}`;
  }
  return (
    `The Postgres tests need PostgreSQL at ${ADMIN_URL} (user postgres, trust auth), which does not ` +
    `answer (${why}): install Debian's \`postgresql\` and start it with ` +
    "`pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start` (as root), " +
    "or point WORKFLOWS_TEST_POSTGRES at another server."
  );
}
