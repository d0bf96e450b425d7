// Servers on a real PostgreSQL reached through a TCP proxy that the tests cut: a process partitioned
// from the database stops running its handlers before another takes them over (no handler runs in
// two processes at once), and a process that loses the database answers 503 meanwhile, loses
// nothing it acknowledged, and recovers when the database is back.
import { randomBytes } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import {
  defineEvent,
  HumanResponseEvent,
  InputRequiredEvent,
  StartEvent,
  StopEvent,
  Workflow,
} from "eventloom";
import { PostgresStore } from "eventloom/postgres";
import { WorkflowServer } from "eventloom/server";
import { afterEach, describe, expect, it } from "vitest";
import { z } from "zod";
import { ADMIN_URL, useFreshDatabase } from "../support/fresh-database.js";
import { TcpProxy } from "../support/tcp-proxy.js";
import { eventually } from "../support/until.js";

const TTL_MS = 1000;

const db = useFreshDatabase("workflows_pgfence_outage");
const servers: WorkflowServer[] = [];
const proxies: TcpProxy[] = [];

afterEach(async () => {
  for (const p of proxies.splice(0)) await p.down();
  await Promise.allSettled(servers.splice(0).map((s) => s.close()));
});

let schemas = 0;
const freshSchema = () => `outage_${++schemas}_${randomBytes(3).toString("hex")}`;

async function proxy(): Promise<TcpProxy> {
  const target = new URL(ADMIN_URL);
  const p = new TcpProxy({ host: target.hostname, port: Number(target.port || 5432) });
  await p.up();
  proxies.push(p);
  return p;
}

interface Span {
  by: string;
  i: number;
  start: number;
  end: number;
}

const Tick = defineEvent("OutageTick", z.object({ i: z.number().int() }));
const Progress = defineEvent("OutageProgress", z.object({ i: z.number().int(), by: z.string() }));
const Reply = defineEvent("OutageReply", z.object({ text: z.string() }), { extends: HumanResponseEvent });

/** A long run of 50 ms ticks; each tick's execution is recorded (who ran it, when). */
function ticker(by: string, spans: Span[], ticks: number) {
  return new Workflow({ name: "ticker", timeout: null })
    .step("begin", { accepts: [StartEvent], emits: [Tick] }, async () => Tick.create({ i: 0 }))
    .step("tick", { accepts: [Tick], emits: [Tick, StopEvent] }, async (ctx, ev) => {
      const span: Span = { by, i: ev.data.i, start: Date.now(), end: Number.POSITIVE_INFINITY };
      spans.push(span);
      ctx.writeEventToStream(Progress.create({ i: ev.data.i, by }));
      await sleep(50, undefined, { signal: ctx.signal }).catch(() => undefined);
      span.end = Date.now();
      if (ev.data.i + 1 < ticks) return Tick.create({ i: ev.data.i + 1 });
      return StopEvent.create({ result: "done" });
    });
}

const Prompt = defineEvent("OutagePrompt", z.object({}), { extends: InputRequiredEvent });

const reply = new Workflow({ name: "reply", timeout: null })
  .step("ask", { accepts: [StartEvent], emits: [Prompt] }, async () => Prompt.create({}))
  .step("answer", { accepts: [Reply], emits: [StopEvent] }, async (_ctx, ev) =>
    StopEvent.create({ result: ev.data.text }),
  );

/** What each server logged at warn level, by its name. */
const warnings = new Map<string, string[]>();

function server(url: string, schema: string, by: string, spans: Span[], ticks = 60): WorkflowServer {
  const warned: string[] = [];
  warnings.set(by, warned);
  const s = new WorkflowServer({
    logger: { info() {}, warn: (message: string) => void warned.push(message), error() {} },
    store: new PostgresStore(
      { connectionString: url, connectionTimeoutMillis: 1000 },
      { schema, pollIntervalMs: 200 },
    ),
    token: "",
    leaseTtlMs: TTL_MS,
  });
  s.addWorkflow("ticker", ticker(by, spans, ticks)).addWorkflow("reply", reply);
  servers.push(s);
  return s;
}

async function call(s: WorkflowServer, method: string, path: string, body?: unknown) {
  const init: RequestInit = { method };
  if (body !== undefined) {
    init.body = JSON.stringify(body);
    init.headers = { "content-type": "application/json" };
  }
  const res = await s.fetch(new Request(`http://localhost${path}`, init));
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : null) as Record<string, unknown> };
}

describe("Postgres outages", { timeout: 60_000 }, () => {
  it("stops the runs of a process partitioned from the database before another process takes them over", async () => {
    const schema = freshSchema();
    const spans: Span[] = [];
    const link = await proxy();
    const a = server(link.url(db.url), schema, "A", spans);
    const b = server(db.url, schema, "B", spans);
    await call(b, "GET", "/health");
    const started = await call(a, "POST", "/workflows/ticker/run-nowait", {});
    const id = started.body["handler_id"] as string;
    await eventually("A under way", () => (spans.filter((s) => s.by === "A").length >= 3 ? true : undefined));

    link.partition();
    const cutAt = Date.now();
    const result = await eventually("B finishing the run", async () => {
      const r = await call(b, "GET", `/results/${id}`);
      return r.status === 200 ? r.body : undefined;
    });
    expect(result).toMatchObject({ status: "completed", result: "done" });

    const byA = spans.filter((s) => s.by === "A");
    const byB = spans.filter((s) => s.by === "B");
    expect(byB.length).toBeGreaterThan(0);
    const firstB = Math.min(...byB.map((s) => s.start));
    // A stopped on its own (no database to tell it), and before B began.
    for (const s of byA) expect(s.end).toBeLessThanOrEqual(firstB);
    // It stops about 0.6–0.9 ttl after the cut (renewals every ttl/3); the bound leaves room for a loaded machine.
    expect(Math.max(...byA.map((s) => s.end)) - cutAt).toBeLessThan(TTL_MS * 3);
    // The stream (read through B) has every sequence once, ending in the StopEvent.
    const res = await b.fetch(new Request(`http://localhost/events/${id}?sse=false&include_internal=true`));
    const events = (await res.text())
      .split("\n")
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { sequence: number; type: string });
    expect(events.map((e) => e.sequence)).toEqual(events.map((_, i) => i));
    expect(events.at(-1)?.type).toBe("StopEvent");
    // Cut off, A cannot know whether B took its handler over: it says it stopped it, not that.
    expect(warnings.get("A")).toContain("leases not renewed in time: stopping their runs");
    expect(warnings.get("A")).not.toContain("a handler was taken over by another server process");
  });

  it("answers 503 while the database is down, loses nothing it acknowledged, and recovers when it is back", async () => {
    const schema = freshSchema();
    const link = await proxy();
    const s = server(link.url(db.url), schema, "A", [], 3);
    const waiting = await call(s, "POST", "/workflows/reply/run-nowait", {});
    expect(waiting.status).toBe(200);
    const id = waiting.body["handler_id"] as string;

    await link.down();
    const during = [
      await call(s, "GET", `/handlers/${id}`),
      await call(s, "GET", "/handlers"),
      await call(s, "POST", "/workflows/ticker/run-nowait", {}),
      await call(s, "POST", `/events/${id}`, { event: { type: "OutageReply", value: { text: "lost?" } } }),
    ];
    for (const r of during) expect(r).toMatchObject({ status: 503, body: { code: "STORE_UNAVAILABLE" } });

    await link.up();
    const sent = await eventually("the store back", async () => {
      const r = await call(s, "POST", `/events/${id}`, {
        event: { type: "OutageReply", value: { text: "back" } },
      });
      return r.status === 503 ? undefined : r;
    });
    expect(sent).toEqual({ status: 200, body: { status: "sent" } });
    const done = await eventually("the reply run's end", async () => {
      const r = await call(s, "GET", `/results/${id}`);
      return r.status === 200 ? r.body : undefined;
    });
    expect(done).toMatchObject({ status: "completed", result: "back" });
    const run = await call(s, "POST", "/workflows/ticker/run", {});
    expect(run.body).toMatchObject({ status: "completed", result: "done" });
  });
});
