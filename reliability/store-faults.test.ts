// Contained faults of the store (issue 13, items 1, 5 and 6), on the real CLI serving the torture
// workflows on a real SQLite file, driven by the real client: a disk that cannot take writes (full,
// or the file made immutable) while a client retries `run-nowait` with its `handler_id`, and the
// database file deleted under the running server. Each is measured: faults, the client's answers by
// status, acknowledged work lost (must be 0), and how long until writes are taken again.
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, statfsSync, unlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { WorkflowClient } from "eventloom/client";
import { SqliteStore } from "eventloom/server";
import { afterAll, describe, expect, it } from "vitest";
import { type CliProcess, STARTUP_MS, tempDir } from "../packages/eventloom/test/cli/cli-process.js";
import { eventually } from "../packages/eventloom/test/support/until.js";
import { answerFor, expectedOutcome, type TortureKind } from "./fixtures/torture-workflows.js";
import { serveTorture } from "./support/cli.js";
import { type Answer, FaultTally, since } from "./support/fault-tally.js";
import { percentile } from "./support/figures.js";
import { sized } from "./support/mode.js";
import { checkStore } from "./support/store-invariants.js";

const OUTAGES = sized(2, 24);
const DELETIONS = sized(1, 6);
const isRoot = process.getuid?.() === 0;

const children: CliProcess[] = [];
const cleanups: (() => unknown)[] = [];
afterAll(async () => {
  await Promise.all(children.map((c) => c.kill()));
  for (const c of cleanups.reverse()) await c();
});

async function serve(db: string): Promise<{ cli: CliProcess; client: WorkflowClient; url: string }> {
  const { cli, url } = await serveTorture({ port: 0, env: { WORKFLOWS_DB: db } });
  children.push(cli);
  return { cli, url, client: new WorkflowClient({ baseUrl: url, retries: 0, timeoutMs: 30_000 }) };
}

/** A run the server acknowledged, with what it must end as. */
interface Acked {
  id: string;
  kind: TortureKind;
  input: Record<string, number>;
}

/** Opens the file once its server is gone: sound, and every acknowledged run there, ended right. */
async function lostIn(db: string, acked: readonly Acked[]): Promise<number> {
  const store = new SqliteStore(db);
  try {
    expect((await checkStore(store)).problems).toEqual([]);
    expect(store.integrityCheck()).toBe("ok");
    let lost = 0;
    for (const run of acked) {
      const record = await store.getHandler(run.id);
      const expected = expectedOutcome(run.kind, run.input);
      const right =
        record?.status === expected.status &&
        (expected.status !== "completed" ||
          JSON.stringify(record.result) === JSON.stringify(expected.result));
      if (!right) lost++;
    }
    return lost;
  } finally {
    await store.close();
  }
}

/** GET /ready and /health, counted as answers. */
async function probe(
  url: string,
  tally: FaultTally,
): Promise<{ ready: number; health: number; retryAfter: string | null }> {
  const ready = await fetch(`${url}/ready`);
  const body = (await ready.json()) as { code?: string };
  tally.count(ready.status, `/ready${body.code ? ` ${body.code}` : ""}`);
  const health = await fetch(`${url}/health`);
  await health.body?.cancel();
  tally.count(health.status, "/health");
  return { ready: ready.status, health: health.status, retryAfter: ready.headers.get("retry-after") };
}

/** `PRAGMA wal_checkpoint(TRUNCATE)` from another connection, as a backup tool may run it. */
function truncateWal(db: string): void {
  const other = new Database(db);
  try {
    other.pragma("wal_checkpoint(TRUNCATE)");
  } finally {
    other.close();
  }
}

const commitFailures = (cli: CliProcess): number =>
  cli
    .stderr()
    .split("\n")
    .filter((l) => / ERROR commit failed .*error_code=STORE_UNAVAILABLE/.test(l)).length;

function expectRefused(answer: Answer<unknown>, handlerId?: string): void {
  expect(answer.ok).toBe(false);
  if (answer.ok) return;
  expect(answer).toMatchObject({ status: 503, error: { code: "STORE_UNAVAILABLE" } });
  expect((answer.error as { retryAfterMs?: number }).retryAfterMs).toBe(2_000);
  if (handlerId) expect((answer.error as { handlerId?: string }).handlerId).toBe(handlerId);
}

type Cause = "full" | "immutable";

/** A server on a file that a fault can be put on and taken off. */
interface Disk {
  db: string;
  served: Awaited<ReturnType<typeof serve>>;
  /** Runs whose outcome the file must hold at the end. */
  acked: Acked[];
  inject(): void;
  clear(): void;
}

/**
 * `full`: a 8 MiB tmpfs, filled by a file. `immutable`: `chattr +i` on the database and its WAL, on
 * the temp folder's file system (a tmpfs lets an open file be written whatever its flags).
 */
async function openDisk(cause: Cause): Promise<Disk> {
  const dir = mkdtempSync(join(tmpdir(), `reliability-${cause}-`));
  if (cause === "full") execFileSync("mount", ["-t", "tmpfs", "-o", "size=8m", "tmpfs", dir]);
  cleanups.push(() => {
    if (cause === "full") execFileSync("umount", [dir]);
    rmSync(dir, { recursive: true, force: true });
  });
  const db = join(dir, "w.db");
  const filler = join(dir, "filler");
  const files = [db, `${db}-wal`];
  const served = await serve(db);
  if (cause === "full")
    return {
      db,
      served,
      acked: [],
      inject: () => {
        // The WAL's room is reused after a checkpoint, so a full disk may take a few more small
        // commits (acknowledged, and durable); emptying the WAL first makes the next one need space.
        truncateWal(db);
        const { bavail, bsize } = statfsSync(dir);
        writeFileSync(filler, Buffer.alloc(bavail * bsize));
      },
      clear: () => unlinkSync(filler),
    };
  cleanups.push(() => spawnSync("chattr", ["-i", ...files]));
  return {
    db,
    served,
    acked: [],
    inject: () => execFileSync("chattr", ["+i", ...files]),
    clear: () => execFileSync("chattr", ["-i", ...files]),
  };
}

// The two tests use their own files and processes: run side by side, they keep the quick mode short.
describe.concurrent("contained faults of the store", () => {
  it.skipIf(!isRoot)(
    "a disk that cannot take writes (full, or the file immutable): 503 + Retry-After and a log line, a retry with the handler_id gets 409, every handler's commits go through once it is back (mounts a tmpfs and uses chattr: root only)",
    { timeout: OUTAGES * 60_000 + 2 * STARTUP_MS },
    async () => {
      const tally = new FaultTally();
      const causes = { full: 0, immutable: 0 };
      let loggedLines = 0;
      let readyRefused = 0;
      let refusedThenWritten = 0;
      const used: Cause[] = OUTAGES > 1 ? ["full", "immutable"] : ["full"];
      const disks: Partial<Record<Cause, Disk>> = Object.fromEntries(
        await Promise.all(used.map(async (cause) => [cause, await openDisk(cause)] as const)),
      );

      for (let round = 0; round < OUTAGES; round++) {
        const cause: Cause = round % 2 === 0 ? "full" : "immutable";
        const disk = disks[cause] as Disk;
        const { cli, client, url } = disk.served;
        // A run of another handler, acknowledged before the fault: it must take its answer after.
        const other: Acked = { id: `ask-${round}`, kind: "ask", input: { n: round } };
        const asked = await tally.answer(
          client.runWorkflowNowait("ask", { handlerId: other.id, startEvent: other.input }),
        );
        expect(asked.ok).toBe(true);
        disk.acked.push(other);

        disk.inject();
        causes[cause]++;
        tally.faults++;
        const logged = commitFailures(cli);

        // run-nowait with a handler_id: refused with 503 naming it (a full disk may still take a
        // write into the WAL's room: then it was acknowledged, and must be kept).
        let run: Acked | null = null;
        for (let attempt = 0; run === null; attempt++) {
          expect(attempt, "a write refused on a full disk").toBeLessThan(20);
          const candidate: Acked = {
            id: `h-${round}-${attempt}`,
            kind: "retry",
            input: { n: round, failures: 0 },
          };
          const first = await tally.answer(
            client.runWorkflowNowait("retry", { handlerId: candidate.id, startEvent: candidate.input }),
          );
          if (first.ok) disk.acked.push(candidate);
          else {
            expectRefused(first, candidate.id);
            run = candidate;
          }
        }
        // Not acknowledged, but the server keeps it and writes it once it can: checked too.
        disk.acked.push(run);
        // The retry while the first attempt's writes are not durable: the same handler, busy.
        const retried = await tally.answer(
          client.runWorkflowNowait("retry", { handlerId: run.id, startEvent: run.input }),
        );
        expect(retried).toMatchObject({ status: 409, error: { code: "HANDLER_RUNNING" } });
        // Once the run's final flush has failed too (the writer tries every second), still busy.
        await eventually(
          "two more failed commits",
          () => (commitFailures(cli) >= logged + 3 ? true : undefined),
          30_000,
        );
        const again = await tally.answer(
          client.runWorkflowNowait("retry", { handlerId: run.id, startEvent: run.input }),
        );
        expect(again).toMatchObject({ status: 409, error: { code: "HANDLER_RUNNING" } });
        const probed = await probe(url, tally);
        expect(probed).toMatchObject({ ready: 503, health: 200, retryAfter: "2" });
        readyRefused++;
        loggedLines += commitFailures(cli) - logged;

        // The store is back: the refused run is written, the other handler and a new run go through.
        const t0 = performance.now();
        disk.clear();
        const id = run.id;
        await eventually(
          "writes taken again",
          async () => {
            const ready = await fetch(`${url}/ready`);
            await ready.body?.cancel();
            if (ready.status !== 200) return undefined;
            const got = await client.getResult(id).catch(() => null);
            return got?.status === "completed" ? true : undefined;
          },
          30_000,
        );
        tally.recovered(since(t0));
        refusedThenWritten++;
        const answered = await tally.answer(
          client.sendEvent(other.id, { type: "Answer", value: { text: answerFor(round) } }),
        );
        expect(answered).toMatchObject({ ok: true, value: { status: "sent" } });
        const next: Acked = { id: `next-${round}`, kind: "retry", input: { n: round + 100, failures: 1 } };
        const done = await tally.answer(
          client.runWorkflow("retry", { handlerId: next.id, startEvent: next.input }),
        );
        expect(done.ok).toBe(true);
        disk.acked.push(next);
      }
      let acknowledged = 0;
      for (const disk of Object.values(disks)) {
        const { cli, client } = disk.served;
        await eventually("every asked run to end", async () => {
          for (const run of disk.acked)
            if ((await client.getResult(run.id)).status === "running") return undefined;
          return true;
        });
        expect(cli.stderr()).not.toMatch(/SEQUENCE_CONFLICT/);
        await cli.kill();
        tally.lost += await lostIn(disk.db, disk.acked);
        acknowledged += disk.acked.length;
      }
      expect(tally.lost).toBe(0);
      tally.report("fault: store refuses writes (disk full, file immutable)", {
        outages: OUTAGES,
        causes: `full: ${causes.full}, immutable: ${causes.immutable}`,
        ready_503_during_outage: readyRefused,
        commit_failed_log_lines: loggedLines,
        refused_runs_written_after: refusedThenWritten,
        runs_checked_in_the_file: acknowledged,
        recovery_is: "fault removed to /ready 200 and the refused run stored",
      });
    },
  );

  it("the database file deleted under the running server: every write gets 503 STORE_UNAVAILABLE, /ready 503, nothing acknowledged that the file does not hold", {
    timeout: DELETIONS * 4 * STARTUP_MS,
  }, async () => {
    const dir = await tempDir("reliability-deleted-");
    cleanups.push(dir.cleanup);
    const db = join(dir.path, "w.db");
    const tally = new FaultTally();
    const acked: Acked[] = [];
    const refusedAfterMs: number[] = [];
    let served = await serve(db);

    for (let round = 0; round < DELETIONS; round++) {
      const { cli, client, url } = served;
      const waiting: Acked = { id: `before-${round}`, kind: "ask", input: { n: round } };
      expect(
        (
          await tally.answer(
            client.runWorkflowNowait("ask", { handlerId: waiting.id, startEvent: waiting.input }),
          )
        ).ok,
      ).toBe(true);

      // The fault: `rm -rf` of the database and its side files.
      for (const suffix of ["", "-wal", "-shm"]) unlinkSync(`${db}${suffix}`);
      tally.faults++;
      const t0 = performance.now();
      const run = await tally.answer(
        client.runWorkflowNowait("ask", { handlerId: `after-${round}`, startEvent: { n: round } }),
      );
      refusedAfterMs.push(since(t0));
      expectRefused(run);
      if (!run.ok)
        expect(run.error.message).toContain(`${db} was deleted or replaced while the store had it open`);
      expectRefused(
        await tally.answer(
          client.sendEvent(waiting.id, { type: "Answer", value: { text: answerFor(round) } }),
        ),
      );
      expectRefused(
        await tally.answer(client.runWorkflow("retry", { startEvent: { n: round, failures: 0 } })),
      );
      expect(await probe(url, tally)).toMatchObject({ ready: 503, health: 200 });
      expect(commitFailures(cli)).toBeGreaterThan(0);

      // Recovery is a restart: a new, empty database at the path, taking writes at once.
      await cli.kill();
      const t1 = performance.now();
      served = await serve(db);
      const fresh: Acked = { id: `restarted-${round}`, kind: "retry", input: { n: round, failures: 0 } };
      const done = await tally.answer(
        served.client.runWorkflow("retry", { handlerId: fresh.id, startEvent: fresh.input }),
      );
      expect(done.ok).toBe(true);
      tally.recovered(since(t1));
      // Nothing answered 200 after the deletion is missing from the new file (nothing was).
      expect((await tally.answer(served.client.getResult(`after-${round}`))).status).toBe(404);
      acked.push(fresh);
    }
    await served.cli.kill();
    tally.lost = await lostIn(db, acked.slice(-1));
    expect(tally.lost).toBe(0);
    tally.report("fault: database file deleted", {
      deletions: DELETIONS,
      first_write_refused_after_ms_p50: Math.round(percentile(refusedAfterMs, 50)),
      first_write_refused_after_ms_max: Math.round(Math.max(...refusedAfterMs)),
      recovery_is: "restart to the first run acknowledged",
    });
  });
});
