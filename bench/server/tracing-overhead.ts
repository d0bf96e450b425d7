// What tracing costs the server's trivial sync run: the same server with tracing off and with tracing
// on (spans to an OTLP/HTTP receiver on loopback, the default http/protobuf, batched), each in a child
// process of its own (tracing on registers AsyncLocalStorage context for the whole process, which
// must not slow the other), measured alternately by wrk in one run, against raw node:http. Besides
// requests per second (which a shared machine's fsyncs move a lot), the CPU time each server process
// spent per request (/proc/<pid>/stat), which the machine's load moves less.
// Each server also reports its scavenges (--trace-gc-nvp): the bytes they promoted to the old
// generation and their pause, per request.
// Run: node_modules/.bin/tsx bench/server/tracing-overhead.ts [--quick]
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

const role = process.argv[2] === "--serve" ? process.argv[3] : null;
if (process.argv[2] === "--floor") await floorChild();
else if (role) await serveChild(role === "on");
else await main();

/**
 * A child: what the official SDK alone costs for the three spans of a trivial run (request,
 * `workflow.run`, `workflow.step` with one event, the attributes the server sets but the step's input event type), made and exported
 * as the server's own SDK does (AsyncLocalStorage context, batched, OTLP/HTTP protobuf to the same
 * receiver), in a loop with no server around it. Prints CPU µs per run: the least tracing can cost.
 */
async function floorChild(): Promise<void> {
  const { context, ROOT_CONTEXT, SpanKind, trace } = await import("@opentelemetry/api");
  const { BatchSpanProcessor } = await import("@opentelemetry/sdk-trace-base");
  const { NodeTracerProvider } = await import("@opentelemetry/sdk-trace-node");
  const { OTLPTraceExporter } = await import("@opentelemetry/exporter-trace-otlp-proto");
  const provider = new NodeTracerProvider({
    spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter())],
  });
  provider.register();
  const tracer = trace.getTracer("eventloom");
  const ids = { "workflow.name": "trivial", "workflow.handler_id": "0P81Jv2gsG8GLHkexZyToZ" };
  const run = async (): Promise<void> => {
    const request = tracer.startSpan(
      "POST /workflows/{name}/run",
      {
        kind: SpanKind.SERVER,
        attributes: {
          "http.request.method": "POST",
          "url.path": "/workflows/trivial/run",
          "http.route": "/workflows/{name}/run",
        },
      },
      ROOT_CONTEXT,
    );
    const runIds = { ...ids, "workflow.run_id": "4HmqSqgRJDVJT4suzSD9za" };
    const runSpan = tracer.startSpan(
      "workflow.run",
      { attributes: runIds },
      trace.setSpan(ROOT_CONTEXT, request),
    );
    runSpan.end();
    const parent = trace.setSpan(ROOT_CONTEXT, runSpan);
    const attributes = { ...runIds, "workflow.step.name": "greet", "workflow.step.attempt": 1 };
    const step = tracer.startSpan("workflow.step", { attributes }, parent);
    await context.with(trace.setSpan(parent, step), async () => await null);
    step.addEvent("StopEvent", {
      "workflow.event.type": "workflows.events.StopEvent",
      "workflow.event.sequence": 2,
    });
    step.setAttribute("workflow.step.outcome", "completed");
    step.end();
    request.setAttribute("http.response.status_code", 200);
    request.end();
  };
  const RUNS = 50_000;
  for (let i = 0; i < 5_000; i++) await run();
  await provider.forceFlush();
  const before = process.cpuUsage();
  for (let i = 0; i < RUNS; i++) {
    await run();
    // Lets the exporter's sockets be served, as between a server's requests.
    if (i % 100 === 0) await new Promise((resolve) => setImmediate(resolve));
  }
  await provider.forceFlush();
  const used = process.cpuUsage(before);
  process.stdout.write(`${(used.user + used.system) / RUNS}\n`);
  await provider.shutdown();
}

/** A child: the server, with tracing as asked, printing its URL. */
async function serveChild(on: boolean): Promise<void> {
  const { StartEvent, StopEvent, Workflow } = await import("../../packages/eventloom/src/core/index.js");
  const { WorkflowServer, SqliteStore } = await import("../../packages/eventloom/src/server/index.js");
  const trivial = new Workflow({ name: "trivial" }).step(
    "greet",
    { accepts: [StartEvent], emits: [StopEvent] },
    (_ctx, ev) => StopEvent.create({ result: `Hello, ${String(ev.data["name"])}!` }),
  );
  const dir = process.env["BENCH_DIR"] as string;
  const server = new WorkflowServer({ store: new SqliteStore(join(dir, `${on}.db`)), tracing: on });
  server.addWorkflow("trivial", trivial);
  const info = await server.serve({ host: "127.0.0.1", port: 0 });
  process.stdout.write(`${info.url}\n`);
  process.on("SIGTERM", () => void server.close().then(() => process.exit(0)));
}

async function main(): Promise<void> {
  const quick = process.argv.includes("--quick");
  const SECONDS = quick ? 3 : 8;
  const ROUNDS = quick ? 2 : 4;
  const dir = mkdtempSync(join(tmpdir(), "wf-otel-bench-"));
  const post = join(dir, "post.lua");
  writeFileSync(
    post,
    `wrk.method = "POST"\nwrk.body = '{"start_event":{"name":"Ada"}}'\nwrk.headers["Content-Type"] = "application/json"\n`,
  );
  let spans = 0;
  const receiver = await listen((req, res) => {
    let bytes = 0;
    req.on("data", (c: Buffer) => {
      bytes += c.length;
    });
    req.on("end", () => {
      spans += bytes > 0 ? 1 : 0;
      res.writeHead(200, { "content-type": "application/x-protobuf" });
      res.end();
    });
  });
  const raw = await listen((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body = JSON.parse(Buffer.concat(chunks).toString("utf8")) as { start_event: { name: string } };
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ status: "completed", result: `Hello, ${body.start_event.name}!` }));
    });
  });
  const env = {
    ...process.env,
    BENCH_DIR: dir,
    OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`,
  };
  const children: ChildProcess[] = [];
  const pids: Record<string, number> = {};
  // Each server's scavenges as V8 reports them (--trace-gc-nvp): bytes promoted to the old
  // generation and pause time, summed; read before and after each measurement.
  const gc: Record<string, { promoted: number; pauseMs: number }> = {
    off: { promoted: 0, pauseMs: 0 },
    on: { promoted: 0, pauseMs: 0 },
  };
  const child = async (on: boolean): Promise<string> => {
    const which = on ? "on" : "off";
    const c = spawn(
      process.execPath,
      ["--trace-gc", "--trace-gc-nvp", ...process.execArgv, fileURLToPath(import.meta.url), "--serve", which],
      { env, stdio: ["ignore", "pipe", "inherit"] },
    );
    children.push(c);
    pids[which] = c.pid as number;
    const url = await new Promise<string>((resolve) => {
      createInterface({ input: c.stdout as NodeJS.ReadableStream }).on("line", (line) => {
        if (line.startsWith("http")) resolve(line.trim());
        if (!line.includes(" gc=s ")) return;
        gc[which].promoted += Number(/ promoted=(\d+)/.exec(line)?.[1] ?? 0);
        gc[which].pauseMs += Number(/ pause=([\d.]+)/.exec(line)?.[1] ?? 0);
      });
    });
    return `${url.replace(/\/$/, "")}/workflows/trivial/run`;
  };
  const [off, on] = [await child(false), await child(true)];
  const rawUrl = `http://127.0.0.1:${(raw.address() as AddressInfo).port}/`;

  /** CPU seconds (user + system) a process has used so far. */
  const cpu = (pid: number): number => {
    const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.split(" ") ?? [];
    return (Number(fields[11]) + Number(fields[12])) / 100;
  };
  const wrk = async (url: string): Promise<{ rps: number; requests: number }> => {
    const { stdout } = await promisify(execFile)(
      "wrk",
      ["-t", "2", "-c", "32", "-d", `${SECONDS}s`, "-s", post, url],
      { encoding: "utf8" },
    );
    const non2xx = Number(/Non-2xx or 3xx responses:\s+(\d+)/.exec(stdout)?.[1] ?? 0);
    if (non2xx > 0) throw new Error(`${url}: ${non2xx} answers not 2xx`);
    const requests = Number(/(\d+) requests in/.exec(stdout)?.[1] ?? 0);
    return { rps: Number(/Requests\/sec:\s+([\d.]+)/.exec(stdout)?.[1] ?? 0), requests };
  };
  await wrk(off);
  await wrk(on);
  const rows: {
    raw: number;
    off: number;
    on: number;
    offCpu: number;
    onCpu: number;
    offPromoted: number;
    onPromoted: number;
    offPause: number;
    onPause: number;
  }[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    // Alternating, each round in another order, so that a slow spell of the machine is shared.
    const order = r % 2 === 0 ? (["raw", "off", "on"] as const) : (["on", "off", "raw"] as const);
    const row = {
      raw: 0,
      off: 0,
      on: 0,
      offCpu: 0,
      onCpu: 0,
      offPromoted: 0,
      onPromoted: 0,
      offPause: 0,
      onPause: 0,
    };
    for (const which of order) {
      if (which === "raw") {
        row.raw = (await wrk(rawUrl)).rps;
        continue;
      }
      const before = cpu(pids[which] as number);
      const gcBefore = { ...gc[which] };
      const result = await wrk(which === "off" ? off : on);
      row[which] = result.rps;
      row[`${which}Cpu`] = ((cpu(pids[which] as number) - before) / result.requests) * 1e6;
      row[`${which}Promoted`] = (gc[which].promoted - gcBefore.promoted) / result.requests;
      row[`${which}Pause`] = ((gc[which].pauseMs - gcBefore.pauseMs) / result.requests) * 1000;
    }
    rows.push(row);
    console.log(
      `round ${r + 1}: raw ${row.raw.toFixed(0)}  off ${row.off.toFixed(0)}  on ${row.on.toFixed(0)} req/s  | off/raw ${(row.off / row.raw).toFixed(3)}  on/off ${(row.on / row.off).toFixed(3)}  | CPU per request off ${row.offCpu.toFixed(0)} µs, on ${row.onCpu.toFixed(0)} µs (${(row.onCpu / row.offCpu).toFixed(3)})  | promoted per request off ${row.offPromoted.toFixed(0)} B, on ${row.onPromoted.toFixed(0)} B; scavenge pause off ${row.offPause.toFixed(1)} µs, on ${row.onPause.toFixed(1)} µs`,
    );
  }
  const median = (xs: number[]) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
  const onOff = median(rows.map((r) => r.on / r.off));
  console.log(
    `wrk: 32 connections, ${SECONDS}s per measurement, ${ROUNDS} rounds, durable SQLite, tracing on batched to a receiver on loopback (${spans} export requests)`,
  );
  console.log(
    `median: off/raw ${median(rows.map((r) => r.off / r.raw)).toFixed(3)}  on/raw ${median(rows.map((r) => r.on / r.raw)).toFixed(3)}  on/off ${onOff.toFixed(3)} (throughput ${((1 - onOff) * 100).toFixed(1)}% lower with tracing on)`,
  );
  const cpuRatio = median(rows.map((r) => r.onCpu / r.offCpu));
  console.log(
    `median CPU per request: off ${median(rows.map((r) => r.offCpu)).toFixed(0)} µs, on ${median(rows.map((r) => r.onCpu)).toFixed(0)} µs: on/off ${cpuRatio.toFixed(3)}`,
  );
  console.log(
    `median GC per request (scavenges): promoted off ${median(rows.map((r) => r.offPromoted)).toFixed(0)} B, on ${median(rows.map((r) => r.onPromoted)).toFixed(0)} B; pause off ${median(rows.map((r) => r.offPause)).toFixed(1)} µs, on ${median(rows.map((r) => r.onPause)).toFixed(1)} µs`,
  );
  for (const c of children) c.kill("SIGTERM");
  await Promise.all(children.map((c) => new Promise((r) => c.once("exit", r))));
  // Alone on the machine now: the official SDK's own cost for the same spans, against tracing off.
  const floor = await new Promise<number>((resolve) => {
    const c = spawn(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), "--floor"], {
      env,
      stdio: ["ignore", "pipe", "inherit"],
    });
    c.stdout?.once("data", (d: Buffer) => resolve(Number(d.toString().trim())));
  });
  const offCpu = median(rows.map((r) => r.offCpu));
  console.log(
    `the official SDK alone, the same three spans exported the same way in a loop: ${floor.toFixed(1)} µs CPU per run = ${(floor / offCpu).toFixed(3)} of the off CPU per request (the least tracing can add)`,
  );
  receiver.close();
  raw.close();
  rmSync(dir, { recursive: true, force: true });
}

function listen(handler: Parameters<typeof createServer>[1]): Promise<Server> {
  const server = createServer(handler);
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve(server)));
}
