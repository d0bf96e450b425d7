// Streams and restarts of the server on its default durable store (SQLite, synchronous=full).
// Run: npm run bench:stream   (or: node_modules/.bin/tsx bench/server/stream-bench.ts [--quick])
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { createInterface } from "node:readline";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { z } from "zod";
import { WorkflowClient } from "../../packages/eventloom/src/client/index.js";
import { defineEvent, StartEvent, StopEvent, Workflow } from "../../packages/eventloom/src/core/index.js";
import { SqliteStore, WorkflowServer } from "../../packages/eventloom/src/server/index.js";

const quick = process.argv.includes("--quick");
const here = dirname(fileURLToPath(import.meta.url));
const Tick = defineEvent("Tick", z.object({ i: z.number(), at: z.number() }));
const now = () => performance.timeOrigin + performance.now();

const emit = new Workflow({ name: "emit", timeout: null }).step(
  "emit",
  { accepts: [StartEvent], emits: [StopEvent] },
  async (ctx, ev) => {
    const n = ev.data["n"] as number;
    const every = (ev.data["everyMs"] as number | undefined) ?? 0;
    for (let i = 0; i < n; i++) {
      ctx.writeEventToStream(Tick.create({ i, at: now() }));
      if (every > 0) await sleep(every);
      else if (i % 1000 === 999) await new Promise((r) => setImmediate(r)); // let commits and readers run
    }
    return StopEvent.create({ result: n });
  },
);
const hold = new Workflow({ name: "hold", timeout: null }).step(
  "hold",
  { accepts: [StartEvent], emits: [StopEvent] },
  async (ctx) => {
    await new Promise((resolve) => ctx.signal.addEventListener("abort", resolve));
    return StopEvent.create({});
  },
);

const dir = mkdtempSync(join(tmpdir(), "wf-stream-bench-"));
const file = join(dir, "bench.db");
const open = async () => {
  const server = new WorkflowServer({ store: new SqliteStore(file) });
  server.addWorkflow("emit", emit).addWorkflow("hold", hold);
  const info = await server.serve({ host: "127.0.0.1", port: 0 });
  return { server, url: info.url, client: new WorkflowClient({ baseUrl: info.url }) };
};

async function read(
  client: WorkflowClient,
  handlerId: string,
): Promise<{ count: number; latencies: number[] }> {
  let count = 0;
  const latencies: number[] = [];
  for await (const ev of client.getWorkflowEvents(handlerId)) {
    if (ev.type === "Tick") {
      count++;
      latencies.push(now() - (ev.value["at"] as number));
    }
  }
  return { count, latencies };
}
/** A WorkflowClient reader in a child process (stream-reader.ts): `read` resolves with its count. */
async function startReader(baseUrl: string) {
  const child = spawn(process.execPath, ["--import", "tsx", join(here, "stream-reader.ts"), baseUrl], {
    stdio: ["pipe", "pipe", "inherit"],
  });
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  if ((await lines.next()).value !== "ready") throw new Error("the reader did not start");
  return {
    async read(handlerId: string): Promise<{ count: number }> {
      child.stdin.write(`${handlerId}\n`);
      const line = await lines.next();
      return JSON.parse(String(line.value)) as { count: number };
    },
    stop: () => child.kill(),
  };
}

const pct = (xs: number[], p: number) =>
  [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) * p)] ?? Number.NaN;

let { server, url, client } = await open();

// 1. One SSE reader, one run publishing N events as fast as it can: the reader in its own process (as
// a client is), then in the server's process (which then does everything on one thread).
{
  const n = quick ? 20_000 : 100_000;
  const reader = await startReader(url);
  // Five rounds: the first warms the JIT up (server and reader); the figure is the median of the rest.
  const rates: number[] = [];
  for (let round = 0; round < 5; round++) {
    const t = performance.now();
    const { handlerId } = await client.runWorkflowNowait("emit", { startEvent: { n } });
    const { count } = await reader.read(handlerId);
    const s = (performance.now() - t) / 1000;
    if (round > 0) rates.push(count / s);
    console.log(
      `1 SSE reader (own process), 1 run of ${n} events: ${(count / s).toFixed(0).padStart(8)} events/s delivered (end to end, durable)${round === 0 ? " (warm-up)" : ""}`,
    );
  }
  console.log(`1 SSE reader (own process): median of rounds 2-5 ${pct(rates, 0.5).toFixed(0)} events/s`);
  reader.stop();
  const t = performance.now();
  const { handlerId } = await client.runWorkflowNowait("emit", { startEvent: { n } });
  const { count } = await read(client, handlerId);
  const s = (performance.now() - t) / 1000;
  console.log(
    `1 SSE reader (same process), 1 run of ${n} events: ${(count / s).toFixed(0).padStart(8)} events/s delivered (end to end, durable)`,
  );
}

// 2. 100 readers on one run.
{
  const n = quick ? 2_000 : 10_000;
  const { handlerId } = await client.runWorkflowNowait("emit", { startEvent: { n } });
  const t = performance.now();
  const results = await Promise.all(Array.from({ length: 100 }, () => read(client, handlerId)));
  const s = (performance.now() - t) / 1000;
  const total = results.reduce((a, r) => a + r.count, 0);
  console.log(
    `100 SSE readers, 1 run of ${n} events:      ${(total / s).toFixed(0).padStart(8)} deliveries/s in total (${results.every((r) => r.count === n) ? "all complete" : "INCOMPLETE"})`,
  );
}

// 3. Delivery latency: an event every 2 ms, from ctx.writeEventToStream to the reader (same clock).
{
  const n = quick ? 300 : 1_000;
  const { handlerId } = await client.runWorkflowNowait("emit", { startEvent: { n, everyMs: 2 } });
  const { latencies } = await read(client, handlerId);
  console.log(
    `delivery latency, an event every 2 ms:   p50 ${pct(latencies, 0.5).toFixed(2)} ms   p99 ${pct(latencies, 0.99).toFixed(2)} ms   (${latencies.length} events)`,
  );
}

// 4. Restart with 1,000 running handlers (each in a step that is in flight).
{
  const n = 1_000;
  for (let i = 0; i < n; i += 100) {
    await Promise.all(Array.from({ length: 100 }, () => client.runWorkflowNowait("hold")));
  }
  await server.close();
  const t = performance.now();
  ({ server, url, client } = await open());
  while (server.liveRunCount < n) await new Promise((r) => setTimeout(r, 5));
  console.log(
    `restart: ${n} running handlers resumed in ${(performance.now() - t).toFixed(0)} ms (from a new server on the same file to every run live)`,
  );
}

// 5. Memory across many completed runs (resident set, after a GC when exposed).
{
  const runs = quick ? 5_000 : 100_000;
  const gc = (globalThis as { gc?: () => void }).gc;
  const rss = () => {
    gc?.();
    return process.memoryUsage().rss / 2 ** 20;
  };
  const before = rss();
  const marks: string[] = [];
  for (let i = 0; i < runs; i += 100) {
    await Promise.all(
      Array.from({ length: 100 }, () => client.runWorkflow("emit", { startEvent: { n: 1 } })),
    );
    if ((i + 100) % (runs / 4) === 0) marks.push(`${i + 100}: ${rss().toFixed(0)} MiB`);
  }
  console.log(
    `resident memory over ${runs} completed runs: before ${before.toFixed(0)} MiB; ${marks.join(", ")}${gc ? "" : " (no --expose-gc)"}`,
  );
}

await server.close();
rmSync(dir, { recursive: true, force: true });
