// Issue 21, item 6: partitions and upgrades must not stall everything. A migration gives up waiting
// for a table lock instead of stopping every query behind it; an older release starts on a newer
// schema marked compatible with it (a rollback), and refuses one that is not; the readiness probe
// answers within its timeout while the database does not; a statement cannot run forever.
import { randomBytes } from "node:crypto";
import pg from "pg";
import { afterAll, afterEach, expect, it } from "vitest";
import { PostgresStore } from "../../src/stores/postgres/index.js";
import { migrate, migrations } from "../../src/stores/postgres/migrations.js";
import { ADMIN_URL, useFreshDatabase } from "../support/fresh-database.js";
import { TcpProxy } from "../support/tcp-proxy.js";

const db = useFreshDatabase("workflows_pgfence_upgrades");
const opened: PostgresStore[] = [];
const clients: pg.Client[] = [];
const proxies: TcpProxy[] = [];

afterEach(async () => {
  for (const p of proxies.splice(0)) await p.down();
});

afterAll(async () => {
  await Promise.allSettled(opened.map((s) => s.close()));
  await Promise.allSettled(clients.map((c) => c.end()));
});

const freshSchema = () => `u_${randomBytes(4).toString("hex")}`;

async function client(): Promise<pg.Client> {
  const c = new pg.Client({ connectionString: db.url });
  await c.connect();
  clients.push(c);
  return c;
}

function open(schema: string, options: ConstructorParameters<typeof PostgresStore>[1] = {}, url = db.url) {
  const store = new PostgresStore(
    { connectionString: url, connectionTimeoutMillis: 1000 },
    { schema, ...options },
  );
  opened.push(store);
  return store;
}

it("gives a migration up when a table's lock does not come, changing nothing", async () => {
  const schema = freshSchema();
  await open(schema).init();
  const reader = await client();
  await reader.query("BEGIN");
  await reader.query(`SELECT count(*) FROM ${schema}.handlers`); // holds ACCESS SHARE until it ends
  const next = [
    ...migrations,
    { version: 1000, name: "a column", sql: "ALTER TABLE handlers ADD COLUMN x integer" },
  ];
  const migrator = await client();
  const started = Date.now();
  await expect(migrate(migrator, schema, next, { lockTimeoutMs: 200 })).rejects.toMatchObject({
    code: "55P03",
  });
  expect(Date.now() - started).toBeLessThan(10_000);
  await reader.query("COMMIT");
  // Nothing of it was applied: run again once the lock is free, it is.
  expect(await migrate(migrator, schema, next, { lockTimeoutMs: 200 })).toEqual([1000]);
});

it("starts an older release on a newer schema marked compatible with it, and refuses one that is not", async () => {
  const schema = freshSchema();
  const newer = await client();
  const latest = Math.max(...migrations.map((m) => m.version));
  await migrate(newer, schema, [
    ...migrations,
    {
      version: latest + 1,
      name: "an index older code ignores",
      sql: "CREATE INDEX x_idx ON handlers (updated_at)",
      compatibleFrom: latest,
    },
  ]);
  const old = open(schema);
  await old.init();
  await old.commit({ handlers: [] });
  await migrate(newer, schema, [
    ...migrations,
    { version: latest + 1, name: "an index older code ignores", sql: "", compatibleFrom: latest },
    { version: latest + 2, name: "a change older code cannot live with", sql: "SELECT 1" },
  ]);
  await expect(open(schema).init()).rejects.toThrow(/not marked compatible/);
});

it("answers the readiness probe within its timeout while the database does not answer", async () => {
  const schema = freshSchema();
  const target = new URL(ADMIN_URL);
  const link = new TcpProxy({ host: target.hostname, port: Number(target.port || 5432) });
  await link.up();
  proxies.push(link);
  const store = open(schema, { readyTimeoutMs: 300 }, link.url(db.url));
  await store.init();
  await store.ready();
  link.partition();
  const started = Date.now();
  await expect(store.ready()).rejects.toMatchObject({ code: "STORE_UNAVAILABLE" });
  expect(Date.now() - started).toBeLessThan(5_000);
  link.heal();
  await store.ready();
});

it("stops a statement that runs longer than statementTimeoutMs with STORE_UNAVAILABLE", async () => {
  const schema = freshSchema();
  const store = open(schema, { statementTimeoutMs: 200 });
  await store.init();
  const holder = await client();
  await holder.query("BEGIN");
  await holder.query(`LOCK TABLE ${schema}.handlers IN ACCESS EXCLUSIVE MODE`);
  await expect(store.getHandler("h")).rejects.toMatchObject({ code: "STORE_UNAVAILABLE" });
  await holder.query("ROLLBACK");
  expect(await store.getHandler("h")).toBeNull();
});
