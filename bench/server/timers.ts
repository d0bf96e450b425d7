// Durable timers at scale (round 2 §7): 10,000 runs each sleeping on ctx.sendEvent(ev, { at }) some
// seconds from its start (10 s on SQLite, 30 s on Postgres, so that all are released before the
// first is due), released from memory while they wait, on SQLite and on Postgres in one run. It reports
// the resident memory (and V8 heap) per released waiting run, against the same process before the
// runs, and how late each timer's event came (p50, p99, max).
// Run: node --expose-gc --import tsx bench/server/timers.ts   (RUNS=10000 by default)
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { z } from "zod";
import { defineEvent, StartEvent, StopEvent, Workflow } from "../../packages/eventloom/src/core/index.js";
import { SqliteStore, type Store, WorkflowServer } from "../../packages/eventloom/src/server/index.js";
import { PostgresStore } from "../../packages/eventloom/src/stores/postgres/index.js";

const RUNS = Number(process.env["RUNS"] ?? 10_000);
const ADMIN = process.env["WORKFLOWS_TEST_POSTGRES"] ?? "postgres://postgres@127.0.0.1:5432/postgres";

const Nap = defineEvent("BenchNap", z.object({ at: z.number() }), { extends: StartEvent });
const Over = defineEvent("BenchNapOver", z.object({ at: z.number() }));

const late: number[] = [];
let woken = 0;
const sleeper = new Workflow({ name: "sleeper", timeout: null })
  .step("nap", { accepts: [Nap], emits: [Over] }, async (ctx, ev) => {
    ctx.sendEvent(Over.create({ at: ev.data.at }), { at: new Date(ev.data.at) });
  })
  .step("wake", { accepts: [Over], emits: [StopEvent] }, async (_ctx, ev) => {
    late.push(Date.now() - ev.data.at);
    woken++;
    return StopEvent.create({ result: null });
  });

const gc = (globalThis as { gc?: () => void }).gc ?? (() => {});
const mib = (b: number) => (b / 1024 / 1024).toFixed(1);
function memory(): { rss: number; heap: number } {
  for (let i = 0; i < 3; i++) gc();
  const m = process.memoryUsage();
  return { rss: m.rss, heap: m.heapUsed };
}
const until = async (check: () => boolean, what: string, ms = 600_000) => {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
};
const pct = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? NaN;

async function bench(name: string, store: Store, napMs: number): Promise<void> {
  const server = new WorkflowServer({ store, token: "", idleReleaseMs: 500 });
  server.addWorkflow("sleeper", sleeper);
  await server.start();
  // The first round warms up (caches, pools, the allocator's arenas); the second is measured.
  await round(`${name} (warm-up)`, server, napMs);
  await round(name, server, napMs);
  await server.close();
}

async function round(name: string, server: WorkflowServer, napMs: number): Promise<void> {
  late.length = 0;
  woken = 0;
  // The baseline: the same process and server, no run waiting (the last round's runs gone).
  await until(() => server.liveRunCount === 0, "the last round's runs to leave memory");
  const before = memory();
  const t0 = Date.now();
  // Each run sleeps `napMs` from its start: they come due at the rate they were started, all of
  // them after every run was released.
  const post = () =>
    server.fetch(
      new Request("http://localhost/workflows/sleeper/run-nowait", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ start_event: { at: Date.now() + napMs } }),
      }),
    );
  for (let i = 0; i < RUNS; i += 200) {
    const batch = await Promise.all(Array.from({ length: Math.min(200, RUNS - i) }, () => post()));
    for (const r of batch) if (r.status !== 200) throw new Error(`run-nowait answered ${r.status}`);
  }
  const started = Date.now() - t0;
  await until(() => server.liveRunCount === 0, "every run to be released");
  const released = memory();
  const firstDue = t0 + napMs - Date.now();
  if (firstDue < 0)
    console.log(`  (${name}: the first timers came due ${-firstDue} ms before every run was released)`);
  // Two minutes after the last timer's time, what has not come is reported as missing.
  const lastDue = t0 + started + napMs;
  await until(() => woken === RUNS || Date.now() > lastDue + 120_000, "every timer");
  if (woken < RUNS)
    console.log(`  (${name}: ${RUNS - woken} timers had not come 2 minutes after the last one's time)`);
  const sorted = [...late].sort((a, b) => a - b);
  console.log(
    `${name}: ${RUNS} runs started in ${started} ms; released and waiting: +${mib(released.rss - before.rss)} MiB RSS ` +
      `(${Math.round((released.rss - before.rss) / RUNS)} B/run), +${mib(released.heap - before.heap)} MiB heap ` +
      `(${Math.round((released.heap - before.heap) / RUNS)} B/run); lateness p50 ${pct(sorted, 0.5)} ms, ` +
      `p99 ${pct(sorted, 0.99)} ms, max ${sorted.at(-1)} ms`,
  );
}

// STORES=sqlite or STORES=postgres runs only that half.
const stores = process.env["STORES"] ?? "sqlite,postgres";
if (stores.includes("sqlite")) {
  const dir = mkdtempSync(join(tmpdir(), "eventloom-timers-bench-"));
  try {
    await bench("SQLite", new SqliteStore(join(dir, "w.db")), 10_000);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
if (!stores.includes("postgres")) process.exit(0);
const admin = new pg.Client({ connectionString: ADMIN });
await admin.connect();
const name = `time_bench_${randomBytes(4).toString("hex")}`;
await admin.query(`CREATE DATABASE ${name}`);
try {
  const url = new URL(ADMIN);
  url.pathname = `/${name}`;
  await bench("Postgres", new PostgresStore({ connectionString: url.toString() }), 30_000);
} finally {
  await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  await admin.end();
}
