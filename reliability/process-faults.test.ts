// Contained faults of the process (issue 13, items 2 to 4), on the real CLI as child processes on a
// SQLite file, driven by the real client: a run whose step takes the process down on every resume
// (a poison pill), a deploy that renames the step a run is in, and a second `serve` on the same
// file. Each is measured: faults, the client's answers by status, acknowledged work lost (must be 0),
// and how long until the server serves again with the fault contained.
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { WorkflowClient } from "eventloom/client";
import { afterAll, describe, expect, it } from "vitest";
import { type CliProcess, STARTUP_MS, tempDir } from "../packages/eventloom/test/cli/cli-process.js";
import { eventually } from "../packages/eventloom/test/support/until.js";
import { faultServer, spawnServe } from "./support/cli.js";
import { FaultTally, since } from "./support/fault-tally.js";
import { sized } from "./support/mode.js";

const POISON_ROUNDS = sized(1, 6);
// Quick mode fails the run at its first resume (three starts); long mode uses the default, 3.
const MAX_RESUME = sized(1, 3);
const DEPLOY_ROUNDS = sized(1, 8);

const children: CliProcess[] = [];
const cleanups: (() => Promise<void>)[] = [];
afterAll(async () => {
  await Promise.all(children.map((c) => c.kill()));
  for (const c of cleanups) await c();
});

function serve(db: string, env: Record<string, string> = {}): CliProcess {
  const cli = spawnServe({ port: 0, file: faultServer, env: { WORKFLOWS_DB: db, ...env } });
  children.push(cli);
  return cli;
}

const clientOf = (url: string) => new WorkflowClient({ baseUrl: url.replace(/\/$/, ""), retries: 0 });
const alive = (cli: CliProcess) => cli.child.exitCode === null && cli.child.signalCode === null;

/** What an acknowledged run must end as, checked at the end. */
interface Acked {
  id: string;
  status: "completed" | "failed";
  result?: unknown;
}

async function lostOf(client: WorkflowClient, acked: readonly Acked[]): Promise<number> {
  let lost = 0;
  for (const run of acked) {
    const got = await client.getResult(run.id).catch(() => null);
    const right =
      got?.status === run.status &&
      (run.result === undefined || JSON.stringify(got.result) === JSON.stringify(run.result));
    if (!right) lost++;
  }
  return lost;
}

// The two tests use their own files and processes: run side by side, they keep the quick mode short.
describe.concurrent("contained faults of the process", () => {
  it("a run that takes the process down on every resume: restarts until it is failed with RESUME_CRASH_LOOP, then the server stays up", {
    timeout: POISON_ROUNDS * (MAX_RESUME + 2) * STARTUP_MS,
  }, async () => {
    const dir = await tempDir("reliability-poison-");
    cleanups.push(dir.cleanup);
    const db = join(dir.path, "w.db");
    const trigger = join(dir.path, "poison-now");
    const env = { RELIABILITY_POISON_TRIGGER: trigger, RELIABILITY_MAX_RESUME_ATTEMPTS: String(MAX_RESUME) };
    const tally = new FaultTally();
    const acked: Acked[] = [];
    const restarts: number[] = [];

    let cli = serve(db, env);
    let client = clientOf(await cli.ready());
    for (let round = 0; round < POISON_ROUNDS; round++) {
      rmSync(trigger, { force: true });
      const said = `before ${round}`;
      const echoed = await tally.answer(client.runWorkflow("echo", { startEvent: { said } }));
      expect(echoed.ok).toBe(true);
      if (echoed.ok) acked.push({ id: echoed.value.handlerId, status: "completed", result: { said } });
      const started = await tally.answer(client.runWorkflowNowait("poison"));
      if (!started.ok) throw started.error;
      const id = started.value.handlerId;
      acked.push({ id, status: "failed" });

      // The fault: the step throws in a timer callback, which ends the process.
      writeFileSync(trigger, "");
      const t0 = performance.now();
      expect((await cli.exited).code).not.toBe(0);
      tally.faults++;

      // Each start resumes the run and goes down again, until one stops resuming it and stays up.
      let starts = 0;
      for (;;) {
        starts++;
        expect(starts, "starts after the first crash").toBeLessThanOrEqual(MAX_RESUME + 1);
        cli = serve(db, env);
        const url = await cli.ready().catch(() => null);
        if (url === null) continue; // went down before it served
        client = clientOf(url);
        const ended = await eventually(
          "the poisoned run to fail, or the process to go down",
          async () => {
            if (!alive(cli)) return "down";
            const record = await client.getHandler(id).catch(() => null);
            return record && record.status !== "running" ? record : undefined;
          },
          STARTUP_MS,
        );
        if (ended === "down") continue;
        expect(ended.status).toBe("failed");
        expect(ended.error).toMatch(/^RESUME_CRASH_LOOP: .*"explode"/);
        tally.recovered(since(t0));
        tally.count(200, "run failed, server up");
        break;
      }
      restarts.push(starts);
      expect(starts).toBe(MAX_RESUME + 1);
      expect(cli.stderr()).toMatch(/stopped resuming a run that took the process down/);

      // The server stays up and runs everything else.
      const after = await tally.answer(
        client.runWorkflow("echo", { startEvent: { said: `after ${round}` } }),
      );
      expect(after.ok).toBe(true);
      if (after.ok)
        acked.push({ id: after.value.handlerId, status: "completed", result: { said: `after ${round}` } });
      expect(await client.isHealthy()).toBe(true);
      expect(alive(cli)).toBe(true);
    }

    tally.lost = await lostOf(client, acked);
    expect(tally.lost).toBe(0);
    tally.report("fault: poison-pill run", {
      rounds: POISON_ROUNDS,
      max_resume_attempts: MAX_RESUME,
      starts_until_up: restarts.join(" "),
      acknowledged_runs: acked.length,
    });
  });

  it("a second serve on the same file is refused while the first serves on; a deploy that renamed a run's step blocks it (409 HANDLER_BLOCKED) until fitting code resumes it", {
    timeout: DEPLOY_ROUNDS * 4 * STARTUP_MS,
  }, async () => {
    const dir = await tempDir("reliability-deploy-");
    cleanups.push(dir.cleanup);
    const db = join(dir.path, "w.db");
    const second = new FaultTally();
    const blocked = new FaultTally();
    const acked: Acked[] = [];
    const refusedMs: number[] = [];
    const blockedSeenMs: number[] = [];

    let first = serve(db);
    let client = clientOf(await first.ready());
    for (let round = 0; round < DEPLOY_ROUNDS; round++) {
      const started = await blocked.answer(client.runWorkflowNowait("deploy"));
      if (!started.ok) throw started.error;
      const id = started.value.handlerId;
      acked.push({ id, status: "completed", result: { answered: round } });

      // A second `serve` on the same file: refused with one line, the first undisturbed.
      const t1 = performance.now();
      const other = serve(db);
      const exit = await other.exited;
      refusedMs.push(since(t1));
      second.faults++;
      second.count(exit.code === 1 ? 1 : (exit.code ?? -1), "exit of the second serve");
      expect(exit.code).toBe(1);
      expect(other.stderr()).toMatch(
        new RegExp(
          `^eventloom: ${db.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")} is in use by another eventloom process`,
          "m",
        ),
      );
      const said = `served ${round}`;
      const served = await second.answer(client.runWorkflow("echo", { startEvent: { said } }));
      expect(served.ok).toBe(true);
      if (served.ok) acked.push({ id: served.value.handlerId, status: "completed", result: { said } });
      expect((await second.answer(client.getHandler(id))).ok).toBe(true);

      // The first goes down however it may (SIGKILL): the file is free for the next at once.
      const tKill = performance.now();
      await first.kill();
      const renamed = serve(db, { RELIABILITY_DEPLOY: "renamed" });
      const renamedClient = clientOf(await renamed.ready());
      second.recovered(since(tKill));

      // The deploy renamed the step the run is in: blocked, and every answer says so.
      blocked.faults++;
      const tBlocked = performance.now();
      const record = await eventually("the run to be blocked", async () => {
        const got = await renamedClient.getHandler(id).catch(() => null);
        return got?.blocked ? got : undefined;
      });
      blockedSeenMs.push(since(tBlocked));
      expect(record.status).toBe("running");
      expect(record.blocked?.code).toBe("WORKFLOW_CHANGED");
      const sent = await blocked.answer(renamedClient.sendEvent(id, { type: "Go", value: { n: round } }));
      expect(sent).toMatchObject({ status: 409, error: { code: "HANDLER_BLOCKED" } });
      const echo = await blocked.answer(renamedClient.runWorkflow("echo", { startEvent: { said: "v2" } }));
      expect(echo.ok).toBe(true);
      if (echo.ok) acked.push({ id: echo.value.handlerId, status: "completed", result: { said: "v2" } });
      expect(renamed.stderr()).toMatch(/run blocked/);
      await renamed.kill();

      // Code that fits comes back: the run resumes and takes its answer.
      const tFit = performance.now();
      first = serve(db);
      client = clientOf(await first.ready());
      const go = await blocked.answer(client.sendEvent(id, { type: "Go", value: { n: round } }));
      expect(go).toMatchObject({ ok: true, value: { status: "sent" } });
      await eventually("the resumed run to end", async () => {
        const got = await client.getResult(id).catch(() => null);
        return got && got.status !== "running" ? got : undefined;
      });
      blocked.recovered(since(tFit));
    }

    const lost = await lostOf(client, acked);
    second.lost = lost;
    blocked.lost = lost;
    expect(lost).toBe(0);
    second.report("fault: second serve on one SQLite file", {
      rounds: DEPLOY_ROUNDS,
      refused_after_ms_max: Math.round(Math.max(...refusedMs)),
      recovery_is: "SIGKILL of the first to the next serving",
    });
    blocked.report("fault: deploy that renamed a run's step", {
      rounds: DEPLOY_ROUNDS,
      blocked_seen_after_ms_max: Math.round(Math.max(...blockedSeenMs)),
      recovery_is: "start of fitting code to the run ended",
    });
  });
});
