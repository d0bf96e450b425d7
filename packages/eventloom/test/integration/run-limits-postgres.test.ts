// Run limits across processes (round 2 §7): three CLI processes on one Postgres database take
// starts of one limited workflow at once, and the file ledger every step execution writes shows
// never more than the limit executing anywhere; then the process that holds admitted runs is killed
// with SIGKILL and the others take its runs over and drain the queue, leaking no place.
import { randomBytes } from "node:crypto";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { WorkflowClient } from "eventloom/client";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { type CliProcess, startCli, tempDir } from "../cli/cli-process.js";
import { ADMIN_URL, beforeAllOrFailEach, connectAdmin } from "../support/fresh-database.js";
import { readLedger, replay } from "../support/run-ledger.js";
import { until } from "../support/until.js";

const fixture = fileURLToPath(new URL("./fixtures/limits-server.ts", import.meta.url));
const running: CliProcess[] = [];
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((p) => p.kill()));
  for (const c of cleanups.splice(0)) await c();
});

let admin: Awaited<ReturnType<typeof connectAdmin>> | undefined;
const databases: string[] = [];
beforeAllOrFailEach(async () => {
  admin = await connectAdmin();
});
afterAll(async () => {
  for (const db of databases) await admin?.query(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`);
  await admin?.end();
});

async function setup() {
  const name = `limits_${randomBytes(6).toString("hex")}`;
  await admin?.query(`CREATE DATABASE ${name}`);
  databases.push(name);
  const db = new URL(ADMIN_URL);
  db.pathname = `/${name}`;
  const dir = await tempDir("eventloom-limits-pg-");
  cleanups.push(dir.cleanup);
  const ledger = join(dir.path, "ledger.jsonl");
  const gate = join(dir.path, "gate");
  const env = {
    WORKFLOWS_DB: db.toString(),
    WORKFLOWS_LEASE_TTL_MS: "1500",
    LIMITS_LEDGER: ledger,
    LIMITS_GATE: gate,
  };
  return { ledger, gate, env };
}

async function serve(env: Record<string, string>) {
  const cli = startCli(["serve", fixture, "--host", "127.0.0.1", "--port", "0"], { env });
  running.push(cli);
  const url = await cli.ready();
  return { cli, client: new WorkflowClient({ baseUrl: url }) };
}

const runningCount = async (client: WorkflowClient) =>
  (await client.getHandlersPage({ status: "running", limit: 1000 })).handlers.length;

describe("run limits on Postgres", { timeout: 300_000 }, () => {
  it("three processes: never more than the limit execute at once, wherever the runs were started", async () => {
    const s = await setup();
    const servers = [await serve(s.env), await serve(s.env), await serve(s.env)];
    // 60 starts at once, 20 through each process.
    const ids = (
      await Promise.all(
        servers.map(({ client }, p) =>
          Promise.all(
            Array.from({ length: 20 }, (_, i) =>
              client.runWorkflowNowait("job", { startEvent: { tag: `p${p}-${i}` } }).then((r) => r.handlerId),
            ),
          ),
        ),
      )
    ).flat();
    const client = servers[0]?.client as WorkflowClient;
    await until(() => readLedger(s.ledger).length === 3, { what: "three runs to start" });
    const queued = (await client.getHandlersPage({ status: "running", limit: 1000 })).handlers;
    expect(queued.filter((h) => h.queued)).toHaveLength(57);
    writeFileSync(s.gate, "");
    await until(async () => (await runningCount(client)) === 0, {
      timeoutMs: 120_000,
      what: "every run to end",
    });
    for (const id of ids) expect((await client.getHandler(id)).status).toBe("completed");
    const lines = readLedger(s.ledger);
    // The limit held across the three processes, whose starts each asked the store to admit. Which
    // process ran which run is not promised (the one whose run ends admits the next, and may take them
    // all under load): not checked.
    expect(replay(lines).most.get("job")).toBe(3);
  });

  it("the process that runs admitted runs is killed: another takes them over, the queue drains, no place leaks", async () => {
    const s = await setup();
    const owner = await serve(s.env);
    const other = await serve(s.env);
    const ids: string[] = [];
    // Through the owner first: it admits and runs the first three.
    for (let i = 0; i < 3; i++)
      ids.push((await owner.client.runWorkflowNowait("job", { startEvent: { tag: `a${i}` } })).handlerId);
    await until(() => readLedger(s.ledger).length === 3, { what: "the owner to run three" });
    for (let i = 0; i < 7; i++)
      ids.push((await other.client.runWorkflowNowait("job", { startEvent: { tag: `q${i}` } })).handlerId);
    expect(readLedger(s.ledger).every((l) => l.pid === owner.cli.child.pid)).toBe(true);
    owner.cli.child.kill("SIGKILL");
    expect((await owner.cli.exited).signal).toBe("SIGKILL");
    const killedAt = readLedger(s.ledger).length;
    writeFileSync(s.gate, "");
    await until(async () => (await runningCount(other.client)) === 0, {
      timeoutMs: 120_000,
      what: "every run to end",
    });
    for (const id of ids) expect((await other.client.getHandler(id)).status).toBe("completed");
    const after = readLedger(s.ledger).slice(killedAt);
    expect(after.every((l) => l.pid === other.cli.child.pid)).toBe(true);
    // Taken over one by one as their leases expire, with the gate open: at most the limit at once.
    expect(replay(after).most.get("job")).toBeLessThanOrEqual(3);
    expect(after.filter((l) => l.at === "start").map((l) => l.tag)).toEqual(
      expect.arrayContaining(["a0", "a1", "a2", "q0", "q6"]),
    );
    // No place leaked: three new runs are admitted at once.
    for (let i = 0; i < 3; i++) {
      const r = await other.client.runWorkflowNowait("job", { startEvent: { tag: `m${i}` } });
      expect((await other.client.getHandler(r.handlerId)).queued).toBeUndefined();
    }
  });
});
