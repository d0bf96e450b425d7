// Run limits (round 2 §7, `addWorkflow(…, { concurrency })`) on real CLI processes: a file ledger
// that every step execution writes (run-ledger.ts) shows that never more than `limit` runs of a key
// execute at once, that queued runs start in the order they were started, and that a process killed
// with SIGKILL while it holds admitted runs leaks no place: its runs are run again and the queue drains.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { WorkflowClient } from "eventloom/client";
import { afterEach, describe, expect, it } from "vitest";
import { type CliProcess, startCli, tempDir } from "../cli/cli-process.js";
import { readLedger, replay } from "../support/run-ledger.js";
import { until } from "../support/until.js";

const fixture = fileURLToPath(new URL("./fixtures/limits-server.ts", import.meta.url));
const running: CliProcess[] = [];
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((p) => p.kill()));
  for (const c of cleanups.splice(0)) await c();
});

interface Setup {
  ledger: string;
  gate: string;
  env: Record<string, string>;
}

async function setup(db?: string): Promise<Setup> {
  const dir = await tempDir("eventloom-limits-");
  cleanups.push(dir.cleanup);
  const ledger = join(dir.path, "ledger.jsonl");
  const gate = join(dir.path, "gate");
  const env = { WORKFLOWS_DB: db ?? join(dir.path, "w.db"), LIMITS_LEDGER: ledger, LIMITS_GATE: gate };
  return { ledger, gate, env };
}

async function serve(
  env: Record<string, string>,
): Promise<{ cli: CliProcess; client: WorkflowClient; url: string }> {
  const cli = startCli(["serve", fixture, "--host", "127.0.0.1", "--port", "0"], { env });
  running.push(cli);
  const url = await cli.ready();
  return { cli, client: new WorkflowClient({ baseUrl: url }), url };
}

async function kill(cli: CliProcess): Promise<void> {
  cli.child.kill("SIGKILL");
  expect((await cli.exited).signal).toBe("SIGKILL");
}

const starts = (s: Setup) => readLedger(s.ledger).filter((l) => l.at === "start");

/** How many handlers are running (queued ones included). */
async function runningCount(client: WorkflowClient): Promise<number> {
  return (await client.getHandlersPage({ status: "running", limit: 1000 })).handlers.length;
}

/** Waits until every handler has ended; resolves with their final records. */
async function allEnded(client: WorkflowClient, ids: readonly string[]) {
  await until(async () => (await runningCount(client)) === 0, {
    timeoutMs: 120_000,
    what: "every run to end",
  });
  return Promise.all(ids.map((id) => client.getHandler(id)));
}

/** The running gauge of a workflow in this process's /metrics: the runs it holds in memory. */
async function activeRuns(url: string, workflow: string): Promise<number> {
  const text = await (await fetch(new URL("metrics", url))).text();
  const line = text.split("\n").find((l) => l.startsWith(`eventloom_runs_active{workflow="${workflow}"}`));
  return Number(line?.split(" ").at(-1) ?? Number.NaN);
}

describe("run limits", { timeout: 300_000 }, () => {
  it("200 runs against a limit of 3: never more than 3 execute, they start in order, queued ones hold no memory", async () => {
    const s = await setup();
    const { client, url } = await serve(s.env);
    const ids: string[] = [];
    for (let i = 0; i < 200; i++) {
      const { handlerId } = await client.runWorkflowNowait("job", { startEvent: { tag: `r${i}` } });
      ids.push(handlerId);
    }
    await until(() => starts(s).length === 3, { what: "the first three runs to start" });
    expect(starts(s).map((l) => l.tag)).toEqual(["r0", "r1", "r2"]);
    // The others are rows of the store, in order, with their place.
    const tenth = await client.getHandler(ids[10] as string);
    expect(tenth).toMatchObject({ status: "running", queued: true, queuePosition: 8 });
    expect(await client.getHandler(ids[0] as string)).not.toHaveProperty("queued");
    expect(await activeRuns(url, "job")).toBe(3);
    // A queued run can be cancelled (it never runs), and a sync run waits through the queue.
    await client.cancelHandler(ids[50] as string);
    expect(await client.getHandler(ids[50] as string)).toMatchObject({ status: "cancelled" });
    expect((await client.getHandler(ids[51] as string)).queuePosition).toBe(48);
    const sync = client.runWorkflow("job", { startEvent: { tag: "sync" } });
    await until(async () => (await runningCount(client)) === 200, {
      what: "the sync run to be queued",
    });
    writeFileSync(s.gate, "");
    expect(await sync).toMatchObject({ status: "completed", result: "sync" });
    const records = await allEnded(client, ids);
    expect(records.filter((r) => r.status === "completed")).toHaveLength(199);
    const { most, starts: order } = replay(readLedger(s.ledger));
    expect(most.get("job")).toBe(3);
    const expected = ids.map((_, i) => `r${i}`).filter((t) => t !== "r50");
    expect(order).toEqual([...expected, "sync"]);
  });

  it("a key gives each tenant its own limit", async () => {
    const s = await setup();
    const { client, url } = await serve(s.env);
    const ids: string[] = [];
    for (let i = 0; i < 6; i++) {
      for (const tenant of ["a", "b"]) {
        const r = await client.runWorkflowNowait("tenant_job", {
          startEvent: { tag: `${tenant}${i}`, tenant },
        });
        ids.push(r.handlerId);
      }
    }
    // Two of each tenant execute: four runs at once under a limit of two per key.
    await until(() => starts(s).length === 4, { what: "two runs of each tenant to start" });
    expect(
      starts(s)
        .map((l) => l.tag)
        .sort(),
    ).toEqual(["a0", "a1", "b0", "b1"]);
    expect(await client.getHandler(ids[4] as string)).toMatchObject({ queued: true, queuePosition: 1 });
    writeFileSync(s.gate, "");
    const records = await allEnded(client, ids);
    expect(records.every((r) => r.status === "completed")).toBe(true);
    const { most, starts: order } = replay(readLedger(s.ledger));
    expect(most).toEqual(
      new Map([
        ["a", 2],
        ["b", 2],
      ]),
    );
    for (const tenant of ["a", "b"])
      expect(order.filter((t) => t.startsWith(tenant))).toEqual(
        [0, 1, 2, 3, 4, 5].map((i) => `${tenant}${i}`),
      );
    // A start event the key cannot be made of is refused before anything is stored.
    const bad = await fetch(new URL("workflows/tenant_job/run-nowait", url), {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ start_event: { tag: 1 } }),
    });
    expect(bad.status).toBe(400);
  });

  it("SQLite: a process killed while it runs admitted runs leaks no place; the restarted one drains the queue", async () => {
    const s = await setup();
    let { cli, client } = await serve(s.env);
    const ids: string[] = [];
    for (let i = 0; i < 10; i++)
      ids.push((await client.runWorkflowNowait("job", { startEvent: { tag: `k${i}` } })).handlerId);
    await until(() => starts(s).length === 3, { what: "three runs to start" });
    await kill(cli);
    ({ cli, client } = await serve(s.env));
    // The three it ran are resumed (their step runs again), the seven queued stay queued meanwhile.
    await until(() => starts(s).length === 6, { what: "the three admitted runs to run again" });
    expect(
      starts(s)
        .slice(3)
        .map((l) => l.tag)
        .sort(),
    ).toEqual(["k0", "k1", "k2"]);
    expect(await client.getHandler(ids[3] as string)).toMatchObject({ queued: true, queuePosition: 1 });
    writeFileSync(s.gate, "");
    const records = await allEnded(client, ids);
    expect(records.every((r) => r.status === "completed")).toBe(true);
    const after = readLedger(s.ledger).slice(3);
    expect(replay(after).most.get("job")).toBe(3);
    // No place leaked: three new runs start at once.
    const more = await Promise.all(
      [0, 1, 2].map((i) => client.runWorkflowNowait("job", { startEvent: { tag: `m${i}` } })),
    );
    for (const r of more) expect((await client.getHandler(r.handlerId)).queued).toBeUndefined();
  });
});
