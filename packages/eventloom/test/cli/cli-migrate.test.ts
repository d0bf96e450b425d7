// `eventloom migrate` (issue 21, item 6): an operator migrates the schema before deploying.
import { randomBytes } from "node:crypto";
import pg from "pg";
import { expect, it } from "vitest";
import { migrations } from "../../src/stores/postgres/migrations.js";
import { useFreshDatabase } from "../support/fresh-database.js";
import { startCli } from "./cli-process.js";

const db = useFreshDatabase("workflows_pgfence_migrate");

it("brings a Postgres schema up to this release and exits 0", async () => {
  const cli = startCli(["migrate"], { env: { WORKFLOWS_DB: db.url } });
  const exit = await cli.exited;
  expect({ exit, stderr: cli.stderr() }).toEqual({ exit: { code: 0, signal: null }, stderr: "" });
  expect(cli.stdout()).toContain("the store's schema is up to date");
  const c = new pg.Client({ connectionString: db.url });
  await c.connect();
  try {
    const { rows } = await c.query<{ version: number; compatible_from: number }>(
      "SELECT version, compatible_from FROM workflows.schema_migrations ORDER BY version",
    );
    expect(rows.map((r) => r.version)).toEqual(migrations.map((m) => m.version));
    // Each row says from which version on code may run on it: its own, unless the migration says older
    // code still fits (migration 9 only adds an index).
    expect(rows.map((r) => r.compatible_from)).toEqual(migrations.map((m) => m.compatibleFrom ?? m.version));
  } finally {
    await c.end();
  }
});

it("exits 1 with one line when the database cannot be reached", async () => {
  const url = new URL(db.url);
  url.port = "1";
  url.pathname = `/nope_${randomBytes(2).toString("hex")}`;
  const cli = startCli(["migrate"], { env: { WORKFLOWS_DB: url.toString() } });
  expect((await cli.exited).code).toBe(1);
  expect(cli.stderr()).toMatch(/^eventloom: could not migrate the store: .+\n$/);
}, 60_000);
