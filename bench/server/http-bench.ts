// The server's HTTP throughput against raw node:http in the same run, driven by wrk (Debian's `wrk`).
// Run: npm run bench:server   (or: node_modules/.bin/tsx bench/server/http-bench.ts [--quick])
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { StartEvent, StopEvent, Workflow } from "../../packages/eventloom/src/core/index.js";
import { WorkflowServer } from "../../packages/eventloom/src/server/index.js";
import { SqliteStore } from "../../packages/eventloom/src/stores/index.js";

const quick = process.argv.includes("--quick");
const SECONDS = quick ? 3 : 8;
const ROUNDS = quick ? 2 : 3;
const CONNECTIONS = 32;

const dir = mkdtempSync(join(tmpdir(), "wf-bench-"));
const post = join(dir, "post.lua");
writeFileSync(
  post,
  `wrk.method = "POST"\nwrk.body = '{"start_event":{"name":"Ada"}}'\nwrk.headers["Content-Type"] = "application/json"\n`,
);

// wrk runs in its own process while this one serves (the servers live in this process).
// cpuUs: this process's CPU (event loop, SQLite's writer thread, GC) per request answered: it
// counts work, not waiting, so it moves far less than req/s when other jobs share the machine.
async function wrk(
  url: string,
): Promise<{ rps: number; p50: number; p99: number; errors: number; cpuUs: number }> {
  const cpu = process.cpuUsage();
  const { stdout: out } = await promisify(execFile)(
    "wrk",
    ["-t", "2", "-c", String(CONNECTIONS), "-d", `${SECONDS}s`, "--latency", "-s", post, url],
    { encoding: "utf8" },
  );
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1] ?? 0);
  const ms = (label: string) => {
    const m = new RegExp(`${label}%\\s+([\\d.]+)(us|ms|s)`).exec(out);
    if (!m) return Number.NaN;
    const v = Number(m[1]);
    return m[2] === "us" ? v / 1000 : m[2] === "s" ? v * 1000 : v;
  };
  const non2xx = Number(/Non-2xx or 3xx responses:\s+(\d+)/.exec(out)?.[1] ?? 0);
  const socket = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  const errors = non2xx + (socket ? socket.slice(1).reduce((s, x) => s + Number(x), 0) : 0);
  const used = process.cpuUsage(cpu);
  const requests = Number(/(\d+) requests in/.exec(out)?.[1] ?? 0);
  const cpuUs = requests > 0 ? (used.user + used.system) / requests : Number.NaN;
  return { rps, p50: ms("50"), p99: ms("99"), errors, cpuUs };
}

// The baseline: the smallest useful POST handler, reading the body and answering JSON.
function rawServer(): Promise<Server> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body = JSON.parse(Buffer.concat(chunks).toString("utf8")) as { start_event: { name: string } };
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ status: "completed", result: `Hello, ${body.start_event.name}!` }));
    });
  });
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve(server)));
}

const trivial = new Workflow({ name: "trivial" }).step(
  "greet",
  { accepts: [StartEvent], emits: [StopEvent] },
  (_ctx, ev) => StopEvent.create({ result: `Hello, ${String(ev.data["name"])}!` }),
);

const raw = await rawServer();
const rawUrl = `http://127.0.0.1:${(raw.address() as AddressInfo).port}/`;
const synchronous = process.argv.includes("--normal") ? "normal" : "full";
const store = new SqliteStore(join(dir, "bench.db"), { synchronous });
const ours = new WorkflowServer({ store });
ours.addWorkflow("trivial", trivial);
const info = await ours.serve({ host: "127.0.0.1", port: 0 });

const rows: string[] = [];
for (const [label, path] of [
  ["POST /workflows/trivial/run (sync)", "workflows/trivial/run"],
  ["POST /workflows/trivial/run-nowait", "workflows/trivial/run-nowait"],
] as const) {
  const ratios: number[] = [];
  const cpuRatios: number[] = [];
  let last = { rps: 0, p50: 0, p99: 0, errors: 0, cpuUs: 0 };
  let base = { rps: 0, p50: 0, p99: 0, errors: 0, cpuUs: 0 };
  await wrk(`${info.url.replace(/\/$/, "")}/${path}`); // warm-up
  for (let r = 0; r < ROUNDS; r++) {
    base = await wrk(rawUrl);
    last = await wrk(`${info.url.replace(/\/$/, "")}/${path}`);
    ratios.push(last.rps / base.rps);
    cpuRatios.push(base.cpuUs / last.cpuUs);
  }
  const median = (xs: number[]) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
  const ratio = median(ratios);
  const cpuRatio = median(cpuRatios);
  rows.push(
    `${label.padEnd(38)} ${last.rps.toFixed(0).padStart(7)} req/s  p50 ${last.p50.toFixed(2)} ms  p99 ${last.p99.toFixed(2)} ms  errors ${last.errors}  | raw node:http ${base.rps.toFixed(0)} req/s  | ratio ${ratio.toFixed(3)}  | CPU ${last.cpuUs.toFixed(0)} µs/req, raw ${base.cpuUs.toFixed(0)}, ratio ${cpuRatio.toFixed(3)}`,
  );
}
console.log(
  `wrk: ${CONNECTIONS} connections, ${SECONDS}s per measurement, ${ROUNDS} alternating rounds, durable SQLite (synchronous=${synchronous})`,
);
for (const row of rows) console.log(row);
const handlers = await store.listHandlers({ limit: 1 });
console.log(`(store holds runs, newest ${handlers.handlers[0]?.status ?? "none"})`);
await ours.close();
raw.close();
rmSync(dir, { recursive: true, force: true });
