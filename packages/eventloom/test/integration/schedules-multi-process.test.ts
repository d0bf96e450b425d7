// Schedules across three real server processes (the CLI, from the sources) on one Postgres database,
// with a 1-second cron: a ledger of the runs in the store, grouped by fire time, shows exactly one run
// per fire time and none missing, through a kill -9 of the process that fired.
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import pg from "pg";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { type CliProcess, startCli, tempDir } from "../cli/cli-process.js";
import { getJson } from "../cli/http.js";
import { ADMIN_URL, beforeAllOrFailEach, connectAdmin } from "../support/fresh-database.js";
import { eventually } from "../support/until.js";

const fixture = fileURLToPath(new URL("./fixtures/schedule-server.ts", import.meta.url));
const LEASE_TTL_MS = 1500;

let admin: pg.Client | undefined;
const databases: string[] = [];
const running: CliProcess[] = [];
const cleanups: (() => Promise<void> | void)[] = [];

beforeAllOrFailEach(async () => {
  admin = await connectAdmin();
});

afterEach(async () => {
  await Promise.all(running.splice(0).map((p) => p.kill()));
  for (const c of cleanups.splice(0)) await c();
});

afterAll(async () => {
  for (const db of databases) await admin?.query(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`);
  await admin?.end();
});

async function freshDatabase(): Promise<string> {
  const name = `workflows_sched_mp_${randomBytes(6).toString("hex")}`;
  await admin?.query(`CREATE DATABASE ${name}`);
  databases.push(name);
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  return url.toString();
}

interface Run {
  handlerId: string;
  /** The fire time, from the handler id (`sched-<hash>-<YYYYMMDDTHHMMSSZ>`). */
  fireAt: number;
  status: string;
  result: { nonce: string; pid: number } | null;
}

/** The schedule's runs in the store. */
async function ledger(db: pg.Client): Promise<Run[]> {
  const { rows } = await db.query<{ handler_id: string; status: string; result: string }>(
    "SELECT handler_id, status, result::text AS result FROM workflows.handlers WHERE schedule_id = 'every-second'",
  );
  return rows
    .map((r) => {
      const t = /-(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(r.handler_id);
      expect(t, r.handler_id).not.toBeNull();
      const [, y, mo, d, h, mi, s] = t as RegExpExecArray;
      return {
        handlerId: r.handler_id,
        fireAt: Date.parse(`${y}-${mo}-${d}T${h}:${mi}:${s}Z`),
        status: r.status,
        result: JSON.parse(r.result) as Run["result"],
      };
    })
    .sort((a, b) => a.fireAt - b.fireAt);
}

describe("schedules across three server processes on one Postgres database", { timeout: 180_000 }, () => {
  it("starts exactly one run per fire time, none missing, through a kill -9 of the process that fired", async () => {
    const { path: dir, cleanup } = await tempDir();
    cleanups.push(cleanup);
    const stepLog = join(dir, "steps.log");
    const url = await freshDatabase();
    const db = new pg.Client({ connectionString: url });
    await db.connect();
    cleanups.push(() => db.end());
    const nodes = await Promise.all(
      [0, 1, 2].map(async () => {
        const cli = startCli(["serve", fixture, "--host", "127.0.0.1", "--port", "0"], {
          env: {
            WORKFLOWS_DB: url,
            WORKFLOWS_LEASE_TTL_MS: String(LEASE_TTL_MS),
            WORKFLOWS_TEST_STEP_LOG: stepLog,
          },
        });
        running.push(cli);
        return { cli, url: await cli.ready(), pid: cli.child.pid as number };
      }),
    );

    // The process that ran the latest fire time (it claimed it) is killed as soon as it is seen.
    const fired = await eventually("three completed scheduled runs", async () => {
      const done = (await ledger(db)).filter((r) => r.status === "completed");
      return done.length >= 3 ? done.at(-1) : undefined;
    });
    const victim = nodes.find((n) => n.pid === fired?.result?.pid);
    expect(victim).toBeDefined();
    victim?.cli.child.kill("SIGKILL");
    expect((await victim?.cli.exited)?.signal).toBe("SIGKILL");
    const killedAt = Date.now();
    const survivors = nodes.filter((n) => n !== victim);

    // Every run claimed before the kill ends (the victim's taken over), and the others go on firing.
    const runs = await eventually(
      "runs after the kill, and every run claimed before it ended",
      async () => {
        const all = await ledger(db);
        const before = all.filter((r) => r.fireAt <= killedAt);
        const after = all.filter((r) => r.fireAt > killedAt + 1000 && r.status === "completed");
        return before.every((r) => r.status === "completed") && after.length >= 6 ? all : undefined;
      },
      { timeoutMs: 60_000 },
    );

    // The ledger: up to the last completed fire time, one run per second, each executed once.
    const lastDone = Math.max(...runs.filter((r) => r.status === "completed").map((r) => r.fireAt));
    const counted = runs.filter((r) => r.fireAt <= lastDone);
    const first = counted[0]?.fireAt as number;
    const seconds = (lastDone - first) / 1000 + 1;
    const byFire = new Map<number, Run[]>();
    for (const r of counted) byFire.set(r.fireAt, [...(byFire.get(r.fireAt) ?? []), r]);
    const missing = Array.from({ length: seconds }, (_, i) => first + i * 1000).filter((t) => !byFire.has(t));
    expect(missing.map((t) => new Date(t).toISOString())).toEqual([]);
    for (const group of byFire.values()) expect(group).toHaveLength(1);
    for (const r of counted) expect(r.status).toBe("completed");
    expect(counted.some((r) => r.fireAt < killedAt - 1000)).toBe(true);
    expect(counted.filter((r) => r.fireAt > killedAt + 1000).length).toBeGreaterThanOrEqual(6);

    // Executions: each run's step ran once; an execution no run kept can only be the victim's, cut
    // off by the kill before its commit (its run was taken over and ran the step again).
    const executions = readFileSync(stepLog, "utf8")
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line) as { nonce: string; pid: number });
    const kept = new Set(runs.map((r) => r.result?.nonce));
    for (const r of counted) expect(executions.filter((e) => e.nonce === r.result?.nonce)).toHaveLength(1);
    for (const e of executions.filter((x) => !kept.has(x.nonce))) expect(e.pid).toBe(victim?.pid);
    // Runs after the kill were run by the survivors.
    const pids = new Set(counted.filter((r) => r.fireAt > killedAt + 1000).map((r) => r.result?.pid));
    for (const pid of pids) expect(survivors.map((n) => n.pid)).toContain(pid);

    // GET /schedules on a survivor: its next fire time and the last run.
    const listed = await getJson(`${survivors[0]?.url}schedules`);
    expect(listed.status).toBe(200);
    const [schedule] = (listed.body as { schedules: Record<string, unknown>[] }).schedules;
    expect(schedule).toMatchObject({
      schedule_id: "every-second",
      workflow_name: "beat",
      cron: "* * * * * *",
    });
    expect(typeof schedule?.["last_handler_id"]).toBe("string");
    expect(Date.parse(String(schedule?.["next_fire_at"]))).toBeGreaterThan(lastDone);
  });
});
