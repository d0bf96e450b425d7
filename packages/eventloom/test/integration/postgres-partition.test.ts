// Issue 21, item 1: a partition that heals. Three real server processes (the CLI, from the sources)
// share one database, each through a TCP proxy of its own. One process's traffic is frozen while its
// tickers commit (mid-statement: bytes stop, connections stay open), the others take its handlers over
// and finish them, then the partition heals and everything the frozen process held flows on. The
// ledger of every step execution (the fixture's step log), the stored events and records, and the
// answers of synchronous runs must show: no finished step run again, no record changed after its
// run completed, every acknowledged result stored.
import { randomBytes } from "node:crypto";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import pg from "pg";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { type CliProcess, startCli, tempDir } from "../cli/cli-process.js";
import { type Envelope, getJson, postJson } from "../cli/http.js";
import { ADMIN_URL, beforeAllOrFailEach, connectAdmin } from "../support/fresh-database.js";
import { TcpProxy } from "../support/tcp-proxy.js";
import { eventually } from "../support/until.js";

const fixture = fileURLToPath(new URL("./fixtures/multi-server.ts", import.meta.url));
const LEASE_TTL_MS = 1500;
const ROUNDS = 5;
const TICKERS = 6;
const TICKS = 30;

let admin: pg.Client | undefined;
let dbName = "";
let dbUrl = "";
const running: CliProcess[] = [];
const proxies: TcpProxy[] = [];
const cleanups: (() => Promise<void>)[] = [];

beforeAllOrFailEach(async () => {
  admin = await connectAdmin();
  dbName = `workflows_pgfence_partition_${randomBytes(5).toString("hex")}`;
  await admin.query(`CREATE DATABASE ${dbName}`);
  const u = new URL(ADMIN_URL);
  u.pathname = `/${dbName}`;
  dbUrl = u.toString();
});

afterEach(async () => {
  await Promise.all(running.splice(0).map((p) => p.kill()));
  for (const p of proxies.splice(0)) await p.down();
  for (const c of cleanups.splice(0)) await c();
});

afterAll(async () => {
  if (dbName) await admin?.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
  await admin?.end();
});

interface Node {
  cli: CliProcess;
  url: string;
  pid: number;
  link: TcpProxy;
}

interface StepLine {
  tag: string;
  i: number;
  phase: "start" | "end";
  pid: number;
  at: number;
}

async function readLines(path: string): Promise<StepLine[]> {
  const text = await readFile(path, "utf8").catch(() => "");
  return text
    .split("\n")
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as StepLine);
}

async function startNode(stepLog: string): Promise<Node> {
  const target = new URL(ADMIN_URL);
  const link = new TcpProxy({ host: target.hostname, port: Number(target.port || 5432) });
  await link.up();
  proxies.push(link);
  const cli = startCli(["serve", fixture, "--host", "127.0.0.1", "--port", "0"], {
    env: {
      WORKFLOWS_DB: link.url(dbUrl),
      WORKFLOWS_LEASE_TTL_MS: String(LEASE_TTL_MS),
      WORKFLOWS_TEST_STEP_LOG: stepLog,
    },
  });
  running.push(cli);
  return { cli, url: await cli.ready(), pid: cli.child.pid as number, link };
}

/** What the database holds of a handler: its record and its events. */
async function stored(id: string) {
  const db = new pg.Client({ connectionString: dbUrl });
  await db.connect();
  try {
    const h = await db.query(
      `SELECT status, run_id, result::text AS result, completed_at FROM workflows.handlers WHERE handler_id = $1`,
      [id],
    );
    const e = await db.query(
      `SELECT sequence::int AS sequence, event::text AS event FROM workflows.events WHERE handler_id = $1 ORDER BY sequence`,
      [id],
    );
    const events = e.rows.map((r: { event: string }) => JSON.parse(r.event) as Envelope);
    return { record: h.rows[0] as Record<string, unknown> | undefined, events };
  } finally {
    await db.end();
  }
}

describe("a partition between one process and Postgres that heals", { timeout: 600_000 }, () => {
  it("never runs a finished step again, never changes a completed record, stores every acknowledged result", async () => {
    const dir = await tempDir("eventloom-partition-");
    cleanups.push(dir.cleanup);
    const stepLog = join(dir.path, "steps.jsonl");
    const nodes = await Promise.all([0, 1, 2].map(() => startNode(stepLog)));
    const tickers: { id: string; tag: string }[] = [];
    const acknowledged: { id: string; body: Record<string, unknown> }[] = [];
    const completedSnapshots = new Map<string, Awaited<ReturnType<typeof stored>>>();

    for (let round = 0; round < ROUNDS; round++) {
      const victim = nodes[round % 3] as Node;
      const others = nodes.filter((n) => n !== victim);
      const mine: { id: string; tag: string }[] = [];
      for (let t = 0; t < TICKERS; t++) {
        const tag = `r${round}-t${t}`;
        const r = await postJson(`${victim.url}workflows/ticker/run-nowait`, {
          start_event: { ticks: TICKS, delayMs: 20, tag },
        });
        expect(r.status).toBe(200);
        mine.push({ id: r.body["handler_id"] as string, tag });
      }
      tickers.push(...mine);
      // Every ticker is a few ticks in on the victim: its commits are constant, the freeze cuts one.
      await eventually("the victim's tickers under way", async () => {
        const lines = await readLines(stepLog);
        const started = new Set(lines.filter((l) => l.phase === "start" && l.i >= 2).map((l) => l.tag));
        return mine.every((m) => started.has(m.tag)) ? true : undefined;
      });
      victim.link.partition();

      // Synchronous runs through every process meanwhile (the victim's answer only after the heal).
      const syncRuns = nodes.map((n, k) =>
        postJson(`${n.url}workflows/ticker/run`, {
          start_event: { ticks: 3, delayMs: 5, tag: `r${round}-sync${k}` },
        }).catch(() => null),
      );

      // The others finish every ticker of the victim.
      for (const m of mine) {
        await eventually(
          `${m.tag} finished by another process`,
          async () => {
            const r = await getJson(`${(others[0] as Node).url}results/${m.id}`);
            return r.status === 200 ? r.body : undefined;
          },
          120_000,
        );
        completedSnapshots.set(m.id, await stored(m.id));
      }
      victim.link.heal();
      for (const answer of await Promise.all(syncRuns)) {
        if (answer?.status === 200 && answer.body["status"] === "completed") {
          acknowledged.push({ id: answer.body["handler_id"] as string, body: answer.body });
        }
      }
      // The victim works again: it runs a new handler to its end.
      const after = await eventually(
        "the victim running again",
        async () => {
          const r = await postJson(`${victim.url}workflows/ticker/run`, {
            start_event: { ticks: 2, delayMs: 1, tag: `r${round}-after` },
          });
          return r.status === 200 ? r : undefined;
        },
        120_000,
      );
      expect(after.body["status"]).toBe("completed");
    }

    // Every process ends in good order: whatever its writer still held is written (or refused) now.
    for (const n of nodes) {
      n.cli.child.kill("SIGTERM");
      await n.cli.exited;
    }

    // No record changed after its run completed, and every stream is whole.
    for (const { id } of tickers) {
      const before = completedSnapshots.get(id);
      const now = await stored(id);
      expect(now.record).toEqual(before?.record);
      expect(now.events).toEqual(before?.events);
      expect(now.record?.["status"]).toBe("completed");
      expect(now.events.map((e) => e.sequence)).toEqual(now.events.map((_, i) => i));
      expect(now.events.at(-1)?.type).toBe("StopEvent");
    }

    // No finished step ran again: per step, nothing started after the execution whose result is stored ended.
    const lines = await readLines(stepLog);
    let rerunsAfterFinish = 0;
    for (const { id, tag } of tickers) {
      const { events } = await stored(id);
      const progress = events.filter((e) => e.type === "Progress");
      for (let i = 0; i < TICKS; i++) {
        const producer = progress.filter((e) => e.value["i"] === i).at(-1);
        expect(producer, `${tag} step ${i} stored`).toBeDefined();
        const runs = lines.filter((l) => l.tag === tag && l.i === i);
        const own = runs.filter((l) => l.pid === producer?.value["pid"]);
        const lastStart = Math.max(...own.filter((l) => l.phase === "start").map((l) => l.at));
        const end = own.find((l) => l.phase === "end" && l.at >= lastStart);
        if (!end) continue; // the last step's end is its StopEvent
        const later = runs.filter((l) => l.phase === "start" && l.at > end.at);
        rerunsAfterFinish += later.length;
      }
    }
    expect(rerunsAfterFinish).toBe(0);

    // Every acknowledged result is the stored one.
    expect(acknowledged.length).toBeGreaterThan(0);
    for (const { id, body } of acknowledged) {
      const now = await stored(id);
      expect(now.record?.["status"]).toBe("completed");
      expect(JSON.parse(String(now.record?.["result"]))).toEqual(body["result"]);
    }
  });
});
