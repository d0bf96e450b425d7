// Several real server processes (the CLI, from the sources) sharing one PostgreSQL database: any
// process answers for any handler, a killed owner's handlers are finished by the others, and two
// processes racing for a handler never both run it. Each test makes its own database and drops it.
import { randomBytes } from "node:crypto";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type pg from "pg";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { type CliProcess, startCli, tempDir } from "../cli/cli-process.js";
import { type Envelope, getJson, postJson, readEvents } from "../cli/http.js";
import { ADMIN_URL, beforeAllOrFailEach, connectAdmin } from "../support/fresh-database.js";
import { eventually } from "../support/until.js";

const fixture = fileURLToPath(new URL("./fixtures/multi-server.ts", import.meta.url));
/** Short leases so that takeovers happen within seconds. */
const LEASE_TTL_MS = 1500;

let admin: pg.Client | undefined;
const databases: string[] = [];
const running: CliProcess[] = [];
const cleanups: (() => Promise<void>)[] = [];

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

/** A fresh database; its URL. */
async function freshDatabase(): Promise<string> {
  const name = `workflows_pgfence_mp_${randomBytes(6).toString("hex")}`;
  await admin?.query(`CREATE DATABASE ${name}`);
  databases.push(name);
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  return url.toString();
}

interface Node {
  cli: CliProcess;
  url: string;
  pid: number;
}

/** Starts `count` server processes on one database, at once (migrations race). */
async function cluster(count: number, env: Record<string, string> = {}): Promise<Node[]> {
  const db = await freshDatabase();
  const nodes = Array.from({ length: count }, () => {
    const cli = startCli(["serve", fixture, "--host", "127.0.0.1", "--port", "0"], {
      env: { WORKFLOWS_DB: db, WORKFLOWS_LEASE_TTL_MS: String(LEASE_TTL_MS), ...env },
    });
    running.push(cli);
    return cli;
  });
  return Promise.all(
    nodes.map(async (cli) => ({ cli, url: await cli.ready(), pid: cli.child.pid as number })),
  );
}

const streamUrl = (url: string, id: string) => `${url}events/${id}?sse=false&include_internal=true`;

/** The whole stream of an ended handler, read from `url`. */
async function fullStream(url: string, id: string): Promise<Envelope[]> {
  const { events, ended } = await readEvents(streamUrl(url, id));
  expect(ended).toBe(true);
  return events;
}

function expectGapFree(events: Envelope[]): void {
  expect(events.map((e) => e.sequence)).toEqual(events.map((_, i) => i));
  expect(events.at(-1)?.types).toContain("workflows.events.StopEvent");
}

async function kill(node: Node): Promise<number> {
  node.cli.child.kill("SIGKILL");
  expect((await node.cli.exited).signal).toBe("SIGKILL");
  return Date.now();
}

const finalResult = (url: string, id: string) =>
  eventually(`the result of ${id}`, async () => {
    const r = await getJson(`${url}results/${id}`);
    return r.status === 200 ? r.body : undefined;
  });

describe("several server processes on one Postgres database", { timeout: 180_000 }, () => {
  it("streams on B a run started on A, answered and cancelled through C, with any process answering reads", async () => {
    const [a, b, c] = (await cluster(3)) as [Node, Node, Node];
    const started = await postJson(`${a.url}workflows/ask/run-nowait`, {});
    expect(started.status).toBe(200);
    const id = started.body["handler_id"] as string;

    let asked!: () => void;
    const questionSeen = new Promise<void>((resolve) => {
      asked = resolve;
    });
    const streamed = readEvents(streamUrl(b.url, id), (ev) => {
      if (ev.type === "Question") asked();
      return false;
    });
    await questionSeen;
    for (const node of [a, b, c]) {
      expect((await getJson(`${node.url}results/${id}`)).status).toBe(202);
      expect((await getJson(`${node.url}handlers/${id}`)).body).toMatchObject({ status: "running" });
    }
    // A step the workflow does not have is refused by any process, not only by the owner.
    const wrongStep = await postJson(`${c.url}events/${id}`, {
      event: { type: "Answer", value: { text: "no" } },
      step: "nope",
    });
    expect(wrongStep).toMatchObject({ status: 400, body: { code: "UNKNOWN_STEP" } });
    const sent = await postJson(`${c.url}events/${id}`, {
      event: { type: "Answer", value: { text: "yes" } },
    });
    expect(sent).toEqual({ status: 200, body: { status: "sent" } });

    const { events, ended } = await streamed;
    expect(ended).toBe(true);
    expectGapFree(events);
    // The answer ran where the handler is owned (A), not where it was sent (C).
    expect(events.at(-1)?.value).toEqual({ result: `answered: yes (by ${a.pid})` });
    // Resuming the stream on another process from any sequence gives the same events.
    const middle = events[Math.floor(events.length / 2)] as Envelope;
    const resumed = await readEvents(`${streamUrl(c.url, id)}&after_sequence=${middle.sequence}`);
    expect(resumed.events).toEqual(events.filter((e) => e.sequence > middle.sequence));
    for (const node of [a, b, c]) {
      expect((await getJson(`${node.url}results/${id}`)).body).toMatchObject({ status: "completed" });
    }

    // Cancel through a process that does not own the handler.
    const other = await postJson(`${a.url}workflows/ask/run-nowait`, {});
    const otherId = other.body["handler_id"] as string;
    const cancelled = await getJson(`${c.url}handlers/${otherId}/cancel`, { method: "POST" });
    expect(cancelled).toEqual({ status: 200, body: { status: "cancelled" } });
    // Answered once the owner (A) applied it: every process sees it ended at once.
    for (const node of [a, b, c]) {
      expect(await getJson(`${node.url}results/${otherId}`)).toMatchObject({
        status: 200,
        body: { status: "cancelled" },
      });
    }
    const cancelledStream = await fullStream(b.url, otherId);
    expect(cancelledStream.at(-1)?.type).toBe("WorkflowCancelledEvent");
    expectGapFree(cancelledStream);
    expect((await finalResult(a.url, otherId))["status"]).toBe("cancelled");

    const listed = await getJson(`${b.url}handlers`);
    const ids = (listed.body["handlers"] as { handler_id: string }[]).map((h) => h.handler_id);
    expect(ids).toEqual(expect.arrayContaining([id, otherId]));
  });

  it("finishes on B every waiting and running handler of A after A is killed with SIGKILL", async () => {
    const dir = await tempDir("eventloom-mp-");
    cleanups.push(dir.cleanup);
    // The tickers stop at their fourth tick until this file exists: A is surely still running them
    // when it is killed, however slow the machine (with a time-based ticker it sometimes was not).
    const hold = join(dir.path, "hold");
    const [a, b] = (await cluster(2, { WORKFLOWS_TEST_HOLD: hold })) as [Node, Node];
    const tickers: string[] = [];
    const TICKS = 12;
    for (let i = 0; i < 3; i++) {
      const r = await postJson(`${a.url}workflows/ticker/run-nowait`, {
        start_event: { ticks: TICKS, delayMs: 100, tag: `t${i}` },
      });
      tickers.push(r.body["handler_id"] as string);
    }
    const asks: string[] = [];
    for (let i = 0; i < 3; i++) {
      const r = await postJson(`${a.url}workflows/ask/run-nowait`, {});
      asks.push(r.body["handler_id"] as string);
    }
    // Every ask is waiting and every ticker is under way, all on A.
    await eventually("A's handlers under way", async () => {
      for (const id of asks) {
        const { events } = await readEvents(streamUrl(b.url, id), (ev) => ev.type === "Question");
        if (!events.some((e) => e.type === "Question")) return undefined;
      }
      for (const id of tickers) {
        const { events } = await readEvents(
          streamUrl(b.url, id),
          (ev) => ev.type === "Progress" && ev.value["i"] === 2,
        );
        if (!events.some((e) => e.type === "Progress" && e.value["i"] === 2)) return undefined;
      }
      return true;
    });
    const killedAt = await kill(a);
    await writeFile(hold, "");

    // Answers sent through B right away (A's leases may not have expired yet) are not lost.
    for (const id of asks) {
      const sent = await postJson(`${b.url}events/${id}`, {
        event: { type: "Answer", value: { text: "late" } },
      });
      expect(sent).toEqual({ status: 200, body: { status: "sent" } });
    }
    for (const id of [...tickers, ...asks]) {
      expect((await finalResult(b.url, id))["status"]).toBe("completed");
    }
    for (const id of asks) {
      const events = await fullStream(b.url, id);
      expectGapFree(events);
      expect(events.at(-1)?.value).toEqual({ result: `answered: late (by ${b.pid})` });
    }
    for (const id of tickers) {
      const events = await fullStream(b.url, id);
      expectGapFree(events);
      const progress = events.filter((e) => e.type === "Progress");
      const afterKill = progress.filter((e) => e.value["pid"] === b.pid);
      expect(afterKill.length).toBeGreaterThan(0);
      // Resumed where A stood (a tick in flight may run again), up to the last tick.
      expect(progress.at(-1)?.value["i"]).toBe(TICKS - 1);
      const firstOnB = afterKill[0] as Envelope;
      // Taken over within a bounded time: lease expiry (≤ ttl) plus a takeover pass (ttl/2), with
      // room for a loaded machine.
      expect(Date.parse(String(firstOnB["timestamp"])) - killedAt).toBeLessThan(LEASE_TTL_MS * 6);
    }
  });

  it("never lets two processes racing to take over the same handler both run it", async () => {
    const dir = await tempDir("eventloom-mp-");
    cleanups.push(dir.cleanup);
    const stepLog = join(dir.path, "steps.jsonl");
    const hold = join(dir.path, "hold");
    const [a, b, c] = (await cluster(3, { WORKFLOWS_TEST_STEP_LOG: stepLog, WORKFLOWS_TEST_HOLD: hold })) as [
      Node,
      Node,
      Node,
    ];
    const ids: string[] = [];
    for (let i = 0; i < 8; i++) {
      const r = await postJson(`${a.url}workflows/ticker/run-nowait`, {
        start_event: { ticks: 40, delayMs: 50, tag: `race${i}` },
      });
      ids.push(r.body["handler_id"] as string);
    }
    await eventually("every ticker under way on A", async () => {
      const lines = await readLines(stepLog);
      const tags = new Set(lines.filter((l) => l.phase === "start").map((l) => l.tag));
      return ids.every((_, i) => tags.has(`race${i}`)) ? true : undefined;
    });
    const killedAt = await kill(a);
    await writeFile(hold, "");
    for (const id of ids) {
      expect((await finalResult(c.url, id))["status"]).toBe("completed");
      expectGapFree(await fullStream(b.url, id));
    }

    // From the step log: per handler, the executions of B and C never overlap in time, and none
    // of A's ran after it was killed.
    const lines = await readLines(stepLog);
    const takers = new Set<number>();
    for (let i = 0; i < ids.length; i++) {
      const mine = lines.filter((l) => l.tag === `race${i}`);
      const spans = executions(mine);
      for (const s of spans.filter((s) => s.pid === a.pid)) expect(s.start).toBeLessThanOrEqual(killedAt);
      const survivors = spans.filter((s) => s.pid !== a.pid).sort((x, y) => x.start - y.start);
      for (let k = 1; k < survivors.length; k++) {
        const prev = survivors[k - 1] as Span;
        const next = survivors[k] as Span;
        if (prev.pid !== next.pid) expect(next.start).toBeGreaterThanOrEqual(prev.end);
      }
      for (const s of survivors) takers.add(s.pid);
      // A handler may change hands again when a busy machine delays a lease renewal past its self-stop
      // (0.6 × ttl): that is fencing at work, not a race, and the check above proves the racers' runs
      // never overlapped.
      expect(spans.filter((s) => s.pid === a.pid).length).toBeGreaterThan(0);
    }
    expect(takers.size).toBeGreaterThan(0);
    expect([...takers].every((pid) => pid === b.pid || pid === c.pid)).toBe(true);
  });
});

interface StepLine {
  tag: string;
  i: number;
  phase: "start" | "end";
  pid: number;
  at: number;
}

interface Span {
  pid: number;
  i: number;
  start: number;
  end: number;
}

async function readLines(path: string): Promise<StepLine[]> {
  const text = await readFile(path, "utf8").catch(() => "");
  return text
    .split("\n")
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as StepLine);
}

/** Pairs each start with its end (same process, same tick); one without an end ends at +infinity. */
function executions(lines: StepLine[]): Span[] {
  const spans: Span[] = [];
  const open = new Map<string, StepLine>();
  for (const l of lines) {
    const key = `${l.pid}:${l.i}`;
    if (l.phase === "start") open.set(key, l);
    else {
      const s = open.get(key);
      open.delete(key);
      if (s) spans.push({ pid: l.pid, i: l.i, start: s.at, end: l.at });
    }
  }
  for (const s of open.values())
    spans.push({ pid: s.pid, i: s.i, start: s.at, end: Number.POSITIVE_INFINITY });
  return spans;
}
