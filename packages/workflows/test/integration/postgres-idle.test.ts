// Idle handlers on a shared Postgres store hold no process: released from memory, no process's
// takeover loop brings them back by itself, and the next event resumes them wherever it arrives.
import { randomBytes } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import pg from "pg";
import { afterAll, afterEach, beforeAll, expect, it } from "vitest";
import { PostgresStore } from "../../src/stores/postgres/index.js";
import { callJson, makeServer } from "../server/helpers.js";

const ADMIN_URL = process.env["WORKFLOWS_TEST_POSTGRES"] ?? "postgres://postgres@127.0.0.1:5432/postgres";
const TTL_MS = 600;

let admin: pg.Client;
let dbName = "";
let dbUrl = "";
const servers: ReturnType<typeof makeServer>[] = [];
const stores: PostgresStore[] = [];

beforeAll(async () => {
  admin = new pg.Client({ connectionString: ADMIN_URL, connectionTimeoutMillis: 5000 });
  await admin.connect();
  dbName = `workflows_idle_${randomBytes(6).toString("hex")}`;
  await admin.query(`CREATE DATABASE ${dbName}`);
  const url = new URL(ADMIN_URL);
  url.pathname = `/${dbName}`;
  dbUrl = url.toString();
});

afterEach(async () => {
  await Promise.allSettled(servers.splice(0).map((s) => s.close()));
  await Promise.allSettled(stores.splice(0).map((s) => s.close()));
});

afterAll(async () => {
  if (dbName) await admin.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
  await admin.end();
});

async function until(what: string, check: () => boolean | Promise<boolean>, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

it("leaves an idle handler in the store, on no process, until an event brings it back where it arrives", async () => {
  const schema = `idle_${randomBytes(4).toString("hex")}`;
  // A lets idle runs go at once; B keeps a run it took in for a while, so that it can be seen.
  const a = makeServer({
    store: new PostgresStore(dbUrl, { schema }),
    idleReleaseMs: 50,
    leaseTtlMs: TTL_MS,
  });
  const b = makeServer({
    store: new PostgresStore(dbUrl, { schema }),
    idleReleaseMs: 5000,
    leaseTtlMs: TTL_MS,
  });
  servers.push(a, b);
  const probe = new PostgresStore(dbUrl, { schema });
  stores.push(probe);
  await callJson(b, "GET", "/health");
  const { body } = await callJson<{ handler_id: string }>(a, "POST", "/workflows/waiting/run-nowait", {});
  const id = body.handler_id;
  await until("A to release the idle run", () => a.liveRunCount === 0);
  expect(await probe.getLease(id)).toBeNull();

  // Several takeover passes of both processes (every ttl/2) go by: the run stays in the store only.
  const observeUntil = Date.now() + TTL_MS * 3;
  while (Date.now() < observeUntil) {
    expect(a.liveRunCount + b.liveRunCount).toBe(0);
    await sleep(25);
  }
  expect(await probe.getLease(id)).toBeNull();
  expect((await callJson(b, "GET", `/results/${id}`)).status).toBe(202);

  const sent = await callJson(b, "POST", `/events/${id}`, { event: { type: "Ping", value: { n: 7 } } });
  expect(sent.body).toEqual({ status: "sent" });
  expect(b.liveRunCount).toBe(1);
  expect((await probe.getLease(id))?.owner).toBeTruthy();
  await callJson(a, "POST", `/events/${id}`, { event: { type: "Finish", value: {} } });
  await until("the run's end", async () => (await callJson(a, "GET", `/results/${id}`)).status === 200);
  expect((await callJson(a, "GET", `/results/${id}`)).body).toMatchObject({ status: "completed", result: 7 });
});
