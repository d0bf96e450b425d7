// Growth without bounds (issue 13, item 7), on the real CLI on a SQLite file, driven by the real
// client: steps that stream 10 MiB events (over maxEventBytes) must fail alone and leave the server's
// memory bounded, and with retention (WORKFLOWS_RETENTION) ended handlers must be deleted and their
// space given back, while a running handler is kept. Measured: the RSS of the server process, the
// file's bytes, and how long until the space came back.
import { join } from "node:path";
import Database from "better-sqlite3";
import { WorkflowClient } from "eventloom/client";
import { afterAll, describe, expect, it } from "vitest";
import { type CliProcess, STARTUP_MS, tempDir } from "../packages/eventloom/test/cli/cli-process.js";
import { eventually } from "../packages/eventloom/test/support/until.js";
import { faultServer, serveTorture } from "./support/cli.js";
import { databaseBytes, FaultTally, rssMib, since } from "./support/fault-tally.js";
import { sized } from "./support/mode.js";

const FLOODS = sized(2, 30);
const FLOOD_MIB = 10;
const HEAVY = sized(10, 300);
const HEAVY_KIB = 100;
const KiB = 1024;
const MiB = 1024 * KiB;

/**
 * The bytes of the answers the idempotency keys keep. A sync run's key keeps its answer, result
 * included, until retention deletes its handler (then the key stays, without its answer, for
 * `idempotencyTtlMs`): finding 8 of docs/RELIABILITY.md.
 */
function keyBytes(db: string): number {
  const file = new Database(db, { readonly: true });
  try {
    const row = file.prepare("SELECT coalesce(sum(length(body)), 0) AS bytes FROM idempotency_keys").get();
    return (row as { bytes: number }).bytes;
  } finally {
    file.close();
  }
}

const children: CliProcess[] = [];
const cleanups: (() => Promise<void>)[] = [];
afterAll(async () => {
  await Promise.all(children.map((c) => c.kill()));
  for (const c of cleanups) await c();
});

describe("growth without bounds", () => {
  it(`steps streaming ${FLOOD_MIB} MiB events fail with EVENT_TOO_LARGE and the server's memory stays bounded; retention deletes ended handlers and gives their space back, keeping a running one`, {
    timeout: 3 * STARTUP_MS + HEAVY * 1_000,
  }, async () => {
    const dir = await tempDir("reliability-growth-");
    cleanups.push(dir.cleanup);
    const db = join(dir.path, "w.db");
    const { cli, url } = await serveTorture({
      port: 0,
      file: faultServer,
      env: {
        WORKFLOWS_DB: db,
        // Completed handlers go a second after they ended; failed ones are kept (they are checked).
        WORKFLOWS_RETENTION: "completed=1s",
        RELIABILITY_FLOOD_MIB: String(FLOOD_MIB),
        RELIABILITY_HEAVY_KIB: String(HEAVY_KIB),
      },
    });
    children.push(cli);
    const client = new WorkflowClient({ baseUrl: url, retries: 0 });
    const pid = cli.child.pid as number;
    const floods = new FaultTally();
    const retention = new FaultTally();

    // A running handler, acknowledged: retention never takes it.
    const running = await retention.answer(client.runWorkflowNowait("deploy"));
    if (!running.ok) throw running.error;
    expect((await floods.answer(client.runWorkflow("echo", { startEvent: { said: "warm" } }))).ok).toBe(true);
    const rssBefore = rssMib(pid);
    let rssPeak = rssBefore;
    const sampler = setInterval(() => {
      rssPeak = Math.max(rssPeak, rssMib(pid));
    }, 20);
    cleanups.push(async () => clearInterval(sampler));

    // The floods: each step fails at its first too-large event, the others go on.
    const failed: string[] = [];
    for (let i = 0; i < FLOODS; i++) {
      const t0 = performance.now();
      const started = await floods.answer(client.runWorkflowNowait("flood"));
      if (!started.ok) throw started.error;
      floods.faults++;
      failed.push(started.value.handlerId);
      const ended = await eventually("the flood to fail", async () => {
        const got = await client.getResult(started.value.handlerId);
        return got.status === "running" ? undefined : got;
      });
      floods.recovered(since(t0));
      expect(ended.status).toBe("failed");
      expect(ended.error).toMatch(/EVENT_TOO_LARGE: step "flood" made a Chunk of \d+ bytes/);
      const said = `between ${i}`;
      const echoed = await floods.answer(client.runWorkflow("echo", { startEvent: { said } }));
      expect(echoed).toMatchObject({ ok: true, value: { result: { said } } });
    }
    clearInterval(sampler);
    rssPeak = Math.max(rssPeak, rssMib(pid));
    const bytesAfterFloods = databaseBytes(db);
    // Before: 30 such events took the server to 1 GiB, and every byte of them reached the file. Now
    // not one refused event did: the file and its WAL (which holds the last commits until SQLite's
    // checkpoint, about 1 MiB after the 60 runs of the long mode) stay below the size of one.
    expect(rssPeak - rssBefore).toBeLessThan(300);
    expect(bytesAfterFloods).toBeLessThan(FLOOD_MIB * MiB);
    for (const id of failed) if ((await client.getResult(id)).status !== "failed") floods.lost++;
    expect(floods.lost).toBe(0);
    floods.report("fault: oversized events", {
      floods: FLOODS,
      event_mib: FLOOD_MIB,
      events_refused: FLOODS,
      rss_mib_before: Math.round(rssBefore),
      rss_mib_peak: Math.round(rssPeak),
      database_kib_after: Math.round(bytesAfterFloods / KiB),
      recovery_is: "start of the flood to its run failed, alone",
    });

    // Retention: heavy results, deleted a second after they ended; the space comes back.
    const bytesBefore = databaseBytes(db);
    let bytesPeak = bytesBefore;
    let listingBytes = 0;
    // The first heavy run is sent with a key of our own: retried after retention, it must tell the
    // truth (its handler is gone) and run nothing.
    const keyed = await fetch(`${url}/workflows/heavy/run`, {
      method: "POST",
      headers: { "content-type": "application/json", "idempotency-key": "growth-heavy-0" },
      body: JSON.stringify({ start_event: {} }),
    });
    expect(keyed.status).toBe(200);
    const keyedId = ((await keyed.json()) as { handler_id: string }).handler_id;
    for (let i = 1; i < HEAVY; i++) {
      const done = await retention.answer(client.runWorkflow("heavy"));
      expect(done.ok).toBe(true);
      bytesPeak = Math.max(bytesPeak, databaseBytes(db));
      if (i % 10 === 9) {
        const page = await fetch(`${url}/handlers?workflow_name=heavy`);
        listingBytes = Math.max(listingBytes, (await page.text()).length);
      }
    }
    retention.faults = HEAVY;
    const t0 = performance.now();
    await eventually(
      "the heavy handlers deleted and their space given back",
      async () => {
        const page = await client.getHandlersPage({ workflowName: "heavy" });
        // The keys included: retention drops their answers with their handlers.
        const kept = bytesBefore + 256 * KiB;
        return page.handlers.length === 0 && databaseBytes(db) <= kept ? true : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 50 },
    );
    retention.recovered(since(t0));
    const bytesAfter = databaseBytes(db);
    const kept = await retention.answer(client.getHandler(running.value.handlerId));
    retention.lost = kept.ok && kept.value.status === "running" ? 0 : 1;
    expect(retention.lost).toBe(0);
    expect(listingBytes).toBeLessThan(10_000 * 10);
    expect(keyBytes(db)).toBeLessThan(HEAVY * KiB);
    const retried = await fetch(`${url}/workflows/heavy/run`, {
      method: "POST",
      headers: { "content-type": "application/json", "idempotency-key": "growth-heavy-0" },
      body: JSON.stringify({ start_event: {} }),
    });
    expect(retried.status).toBe(404);
    expect(await retried.json()).toMatchObject({ code: "HANDLER_NOT_FOUND" });
    expect((await fetch(`${url}/handlers/${keyedId}`)).status).toBe(404);
    expect((await client.getHandlersPage({ workflowName: "heavy" })).handlers).toEqual([]);
    retention.report("fault: growth (retention)", {
      heavy_runs: HEAVY,
      result_kib: HEAVY_KIB,
      database_kib_before: Math.round(bytesBefore / KiB),
      database_kib_peak: Math.round(bytesPeak / KiB),
      database_kib_after: Math.round(bytesAfter / KiB),
      of_which_idempotency_keys_kib: Math.round(keyBytes(db) / KiB),
      handlers_page_bytes_max: listingBytes,
      recovery_is:
        "last heavy run ended to every one deleted and the file back within 256 KiB of before (idempotency keys included)",
    });
  });
});
