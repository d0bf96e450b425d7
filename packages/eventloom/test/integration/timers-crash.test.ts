// Durable timers (round 2 §7) across SIGKILL: runs sleeping on ctx.sendEvent(ev, { at }) are killed
// with their server (SQLite), or with the Postgres process that owned them, and every timer is
// delivered once, not before its time, by the process that comes next. A ledger the woken step
// writes shows each delivery.
import { randomBytes } from "node:crypto";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { type CliProcess, startCli, tempDir } from "../cli/cli-process.js";
import { getJson, postJson, readEvents } from "../cli/http.js";
import { ADMIN_URL, beforeAllOrFailEach, connectAdmin } from "../support/fresh-database.js";
import { until } from "../support/until.js";

const fixture = fileURLToPath(new URL("./fixtures/timer-server.ts", import.meta.url));

const running: CliProcess[] = [];
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((p) => p.kill()));
  for (const c of cleanups.splice(0)) await c();
});

async function serve(env: Record<string, string>): Promise<{ cli: CliProcess; url: string }> {
  const cli = startCli(["serve", fixture, "--host", "127.0.0.1", "--port", "0"], { env });
  running.push(cli);
  return { cli, url: await cli.ready() };
}

/** Kills with SIGKILL; resolves with the time it was dead (anything due later was not its to deliver). */
async function kill(cli: CliProcess): Promise<number> {
  cli.child.kill("SIGKILL");
  expect((await cli.exited).signal).toBe("SIGKILL");
  return Date.now();
}

/** Starts sleepers (tag → seconds) and waits until each has set its timer and gone idle. */
async function startSleepers(url: string, naps: Record<string, number>): Promise<Map<string, string>> {
  const ids = new Map<string, string>();
  for (const [tag, seconds] of Object.entries(naps)) {
    const r = await postJson(`${url}workflows/sleeper/run-nowait`, { start_event: { tag, seconds } });
    expect(r.status).toBe(200);
    ids.set(tag, r.body["handler_id"] as string);
  }
  for (const id of ids.values()) {
    const idle = await readEvents(
      `${url}events/${id}?sse=false&include_internal=true`,
      (ev) => ev.type === "WorkflowIdleEvent",
    );
    expect(idle.events.at(-1)?.type).toBe("WorkflowIdleEvent");
  }
  return ids;
}

interface Delivery {
  tag: string;
  due: number;
  came: number;
  pid: number;
}

async function ledger(path: string): Promise<Delivery[]> {
  const text = await readFile(path, "utf8").catch(() => "");
  return text
    .split("\n")
    .filter((l) => l.trim() !== "")
    .map((l) => JSON.parse(l) as Delivery);
}

/** Every run completed, its timer delivered exactly once and never early. */
async function expectDeliveredOnce(url: string, ids: Map<string, string>, path: string): Promise<Delivery[]> {
  for (const id of ids.values()) {
    await until(async () => (await getJson(`${url}results/${id}`)).status === 200, {
      timeoutMs: 60_000,
      what: `the run ${id} to end`,
    });
    expect((await getJson(`${url}results/${id}`)).body).toMatchObject({ status: "completed" });
  }
  const lines = await ledger(path);
  expect(lines.map((l) => l.tag).sort()).toEqual([...ids.keys()].sort());
  for (const l of lines) expect(l.came, l.tag).toBeGreaterThanOrEqual(l.due);
  return lines;
}

describe("durable timers across SIGKILL", { timeout: 240_000 }, () => {
  it("SQLite: runs sleeping in memory and released ones are woken once by the restarted server", async () => {
    const dir = await tempDir("eventloom-time-crash-");
    cleanups.push(dir.cleanup);
    const path = join(dir.path, "ledger.jsonl");
    // Idle runs are released after 200 ms: most sleepers are out of memory when the kill comes.
    const env = { WORKFLOWS_DB: join(dir.path, "w.db"), TIMER_LEDGER: path, TIMER_IDLE_MS: "200" };
    let { cli, url } = await serve(env);
    const naps: Record<string, number> = {};
    for (let i = 0; i < 12; i++) naps[`t${i}`] = 3 + (i % 4);
    const ids = await startSleepers(url, naps);
    const dead = await kill(cli);
    ({ cli, url } = await serve(env));
    const lines = await expectDeliveredOnce(url, ids, path);
    for (const l of lines.filter((d) => d.due > dead)) expect(l.pid, l.tag).toBe(cli.child.pid);
    cli.child.kill("SIGTERM");
    expect((await cli.exited).code).toBe(0);
  });

  describe("Postgres", () => {
    let admin: Awaited<ReturnType<typeof connectAdmin>> | undefined;
    const databases: string[] = [];
    beforeAllOrFailEach(async () => {
      admin = await connectAdmin();
    });
    afterAll(async () => {
      for (const db of databases) await admin?.query(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`);
      await admin?.end();
    });

    it("the owner is killed: another process takes its sleepers over and wakes each once", async () => {
      const name = `time_timers_${randomBytes(6).toString("hex")}`;
      await admin?.query(`CREATE DATABASE ${name}`);
      databases.push(name);
      const db = new URL(ADMIN_URL);
      db.pathname = `/${name}`;
      const dir = await tempDir("eventloom-time-pg-");
      cleanups.push(dir.cleanup);
      const path = join(dir.path, "ledger.jsonl");
      const base = { WORKFLOWS_DB: db.toString(), WORKFLOWS_LEASE_TTL_MS: "1500", TIMER_LEDGER: path };
      // The owner keeps half its sleepers in memory (they are taken over by lease), the other
      // half are released (any process's waker wakes them).
      const owner = await serve({ ...base, TIMER_IDLE_MS: "60000" });
      const other = await serve({ ...base, TIMER_IDLE_MS: "200" });
      const held: Record<string, number> = {};
      for (let i = 0; i < 6; i++) held[`held${i}`] = 3 + (i % 3);
      const heldIds = await startSleepers(owner.url, held);
      const released: Record<string, number> = {};
      for (let i = 0; i < 6; i++) released[`rel${i}`] = 3 + (i % 3);
      const releasedIds = await startSleepers(other.url, released);
      const dead = await kill(owner.cli);
      const ids = new Map([...heldIds, ...releasedIds]);
      const lines = await expectDeliveredOnce(other.url, ids, path);
      for (const l of lines.filter((d) => d.due > dead)) expect(l.pid, l.tag).toBe(other.cli.child.pid);
    });
  });
});
