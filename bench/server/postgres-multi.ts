// Server processes on one PostgreSQL database: trivial runs per second with 1, 2 and 3 processes beside
// one process on SQLite (ratios to it, in the same run), the database round trips per run under load
// and per operation alone (the pg driver wrapped in each server process: count-round-trips.ts), then
// the time from SIGKILL of an owner to its handlers running again on the other process. Real CLI
// processes from the sources (tsx), load from `wrk`.
//
// Run: npx tsx bench/server/postgres-multi.ts            (BENCH_SECONDS=10 per throughput case)
//      BENCH_CASES=sqlite,pg1 BENCH_ROUNDS=5 npx tsx bench/server/postgres-multi.ts   (ratios per round)
//      WORKFLOWS_BENCH_POSTGRES=postgres://postgres@127.0.0.1:5432/postgres   (admin URL; the default)
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import pg from "pg";

const root = fileURLToPath(new URL("../..", import.meta.url));
const pkg = join(root, "packages", "eventloom");
const cliMain = join(pkg, "src", "cli", "main.ts");
const fixture = join(pkg, "test", "integration", "fixtures", "multi-server.ts");
const tsx = createRequire(import.meta.url).resolve("tsx");
const ADMIN = process.env["WORKFLOWS_BENCH_POSTGRES"] ?? "postgres://postgres@127.0.0.1:5432/postgres";
const SECONDS = Number(process.env["BENCH_SECONDS"] ?? 10);
const CONNECTIONS = Number(process.env["BENCH_CONNECTIONS"] ?? 32);
const CASES = (process.env["BENCH_CASES"] ?? "sqlite,pg1,pg2,pg3,trips,failover").split(",");
/** The throughput cases run this many times in turn (SQLite, then each Postgres case): ratios per round. */
const ROUNDS = Number(process.env["BENCH_ROUNDS"] ?? 1);
const counter = join(root, "bench", "server", "count-round-trips.ts");
let countDir = "";

/** Statements sent by every server process so far (their counts, written every 50 ms). */
async function roundTrips(settle = true): Promise<number> {
  // Each process writes its count every 50 ms: wait for the last writes.
  if (settle) await new Promise((resolve) => setTimeout(resolve, 200));
  let total = 0;
  for (const f of await readdir(countDir)) total += Number(await readFile(join(countDir, f), "utf8"));
  return total;
}
const run = promisify(execFile);

interface Node {
  child: ChildProcess;
  url: string;
  exited: Promise<void>;
}

function startNode(env: Record<string, string>): Promise<Node> {
  const base: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith("WORKFLOWS_")) base[k] = v;
  const child = spawn(
    process.execPath,
    ["--import", tsx, "--import", counter, cliMain, "serve", fixture, "--host", "127.0.0.1", "--port", "0"],
    {
      cwd: root,
      env: { ...base, TSX_TSCONFIG_PATH: join(pkg, "tsconfig.json"), BENCH_PG_COUNT_DIR: countDir, ...env },
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  return new Promise((resolve, reject) => {
    let out = "";
    child.stdout?.setEncoding("utf8").on("data", (chunk: string) => {
      out += chunk;
      const match = /serving .* at (http:\/\/\S+\/)/.exec(out);
      if (match) resolve({ child, url: match[1] as string, exited });
    });
    child.stderr?.setEncoding("utf8").on("data", (chunk: string) => process.stderr.write(chunk));
    void exited.then(() => reject(new Error(`server exited before listening: ${out}`)));
  });
}

async function stop(nodes: Node[]): Promise<void> {
  for (const n of nodes) n.child.kill("SIGKILL");
  await Promise.all(nodes.map((n) => n.exited));
}

async function freshDatabase(admin: pg.Client): Promise<{ url: string; drop: () => Promise<void> }> {
  const name = `workflows_pgfence_bench_${randomBytes(5).toString("hex")}`;
  await admin.query(`CREATE DATABASE ${name}`);
  const url = new URL(ADMIN);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: () => admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).then(() => undefined),
  };
}

/** Runs wrk against every node at once (connections split between them); total requests/s and errors. */
async function load(
  nodes: Node[],
  seconds: number,
): Promise<{ rps: number; non2xx: number; p50: string; p99: string; requests: number }> {
  const dir = await mkdtemp(join(tmpdir(), "wf-bench-"));
  const script = join(dir, "post.lua");
  await writeFile(
    script,
    'wrk.method = "POST"\nwrk.body = "{}"\nwrk.headers["Content-Type"] = "application/json"\n',
  );
  const perNode = Math.max(1, Math.floor(CONNECTIONS / nodes.length));
  const results = await Promise.all(
    nodes.map((n) =>
      run("wrk", [
        "-t1",
        `-c${perNode}`,
        `-d${seconds}s`,
        "--latency",
        "-s",
        script,
        `${n.url}workflows/trivial/run`,
      ]),
    ),
  );
  await rm(dir, { recursive: true, force: true });
  let rps = 0;
  let non2xx = 0;
  let p50 = "";
  let p99 = "";
  let requests = 0;
  for (const { stdout } of results) {
    requests += Number(/(\d+) requests in/.exec(stdout)?.[1] ?? 0);
    rps += Number(/Requests\/sec:\s+([\d.]+)/.exec(stdout)?.[1] ?? 0);
    non2xx += Number(/Non-2xx or 3xx responses:\s+(\d+)/.exec(stdout)?.[1] ?? 0);
    p50 ||= /^\s+50%\s+(\S+)/m.exec(stdout)?.[1] ?? "";
    p99 ||= /^\s+99%\s+(\S+)/m.exec(stdout)?.[1] ?? "";
  }
  return { rps, non2xx, p50, p99, requests };
}

let sqliteRps = 0;
/** Each Postgres case's ratios to SQLite, one per round. */
const ratios = new Map<string, number[]>();

async function throughput(label: string, env: Record<string, string>, count: number): Promise<void> {
  const nodes = await Promise.all(Array.from({ length: count }, () => startNode(env)));
  try {
    await load(nodes, 2); // warm-up: JIT, connection pools
    const before = await roundTrips();
    const r = await load(nodes, SECONDS);
    const trips = (await roundTrips()) - before;
    if (label.startsWith("SQLite")) sqliteRps = r.rps;
    else if (sqliteRps > 0) ratios.set(label, [...(ratios.get(label) ?? []), r.rps / sqliteRps]);
    const ratio =
      sqliteRps > 0 && !label.startsWith("SQLite") ? `  ${(r.rps / sqliteRps).toFixed(2)} of SQLite` : "";
    const perRun = label.startsWith("SQLite")
      ? ""
      : `  ${(trips / Math.max(1, r.requests)).toFixed(2)} round trips/run`;
    console.log(
      `${label.padEnd(26)} ${r.rps.toFixed(0).padStart(8)} runs/s   p50 ${r.p50.padStart(8)}   p99 ${r.p99.padStart(8)}   errors ${r.non2xx}${ratio}${perRun}`,
    );
  } finally {
    await stop(nodes);
  }
}

async function json(url: string, body?: unknown): Promise<Record<string, unknown>> {
  const res = await fetch(
    url,
    body === undefined
      ? {}
      : { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) },
  );
  return (await res.json()) as Record<string, unknown>;
}

/** Events of a handler read from `url` so far (NDJSON, the stream left open is cut at `limit` events). */
async function progressPids(url: string, id: string): Promise<{ pid: number; at: string }[]> {
  const res = await fetch(`${url}events/${id}?sse=false&after_sequence=-1`, {
    signal: AbortSignal.timeout(300),
  }).catch(() => null);
  if (!res?.body) return [];
  const out: { pid: number; at: string }[] = [];
  const reader = res.body.getReader();
  const decoder = new TextDecoder();
  let buffered = "";
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      buffered += decoder.decode(value, { stream: true });
      const lines = buffered.split("\n");
      buffered = lines.pop() ?? "";
      for (const line of lines) {
        if (!line.trim()) continue;
        const ev = JSON.parse(line) as { type: string; value: { pid?: number }; timestamp?: string };
        if (ev.type === "Progress") out.push({ pid: ev.value.pid as number, at: ev.timestamp ?? "" });
      }
    }
  } catch {
    // cut by the timeout: what was read is enough
  }
  return out;
}

async function failover(db: string, ttlMs: number, handlers: number): Promise<void> {
  const env = { WORKFLOWS_DB: db, WORKFLOWS_LEASE_TTL_MS: String(ttlMs) };
  const a = await startNode(env);
  const b = await startNode(env);
  const bPid = b.child.pid as number;
  try {
    const ids: string[] = [];
    for (let i = 0; i < handlers; i++) {
      const r = await json(`${a.url}workflows/ticker/run-nowait`, {
        start_event: { ticks: 100_000, delayMs: 20 },
      });
      ids.push(r["handler_id"] as string);
    }
    // Under way on A.
    for (const id of ids) while ((await progressPids(b.url, id)).length < 2);
    const killedAt = Date.now();
    a.child.kill("SIGKILL");
    await a.exited;
    const delays: number[] = [];
    for (const id of ids) {
      for (;;) {
        const onB = (await progressPids(b.url, id)).find((p) => p.pid === bPid);
        if (onB) {
          delays.push(Date.parse(onB.at) - killedAt);
          break;
        }
      }
    }
    delays.sort((x, y) => x - y);
    const median = delays[Math.floor(delays.length / 2)] as number;
    const max = delays[delays.length - 1] as number;
    console.log(
      `failover, lease ttl ${String(ttlMs).padStart(5)} ms, ${handlers} running handlers: median ${median} ms, max ${max} ms`,
    );
  } finally {
    await stop([a, b]);
  }
}

/**
 * Round trips of single operations, one at a time (background work, lease renewals and takeover
 * passes, counted too, is small next to them at this pace): a trivial sync run on one process, and an
 * answer sent through a process that does not run the handler (counted on both processes).
 */
async function trips(db: string): Promise<void> {
  const env = { WORKFLOWS_DB: db };
  const [a, b] = [await startNode(env), await startNode(env)] as [Node, Node];
  try {
    const N = 200;
    for (let i = 0; i < 20; i++) await json(`${a.url}workflows/trivial/run`, {});
    let before = await roundTrips();
    for (let i = 0; i < N; i++) await json(`${a.url}workflows/trivial/run`, {});
    console.log(`round trips per trivial sync run, alone:          ${((await roundTrips()) - before) / N}`);
    const asks: string[] = [];
    for (let i = 0; i < 50; i++)
      asks.push((await json(`${a.url}workflows/ask/run-nowait`, {}))["handler_id"] as string);
    for (const id of asks) while ((await json(`${a.url}handlers/${id}`))["status"] !== "running");
    before = await roundTrips();
    for (const id of asks)
      await json(`${b.url}events/${id}`, { event: { type: "Answer", value: { text: "y" } } });
    for (const id of asks) while ((await json(`${b.url}handlers/${id}`))["status"] === "running");
    const answered = (await roundTrips()) - before;
    console.log(
      `round trips per answer through a non-owner, both processes, to the run's end: ${(answered / asks.length).toFixed(2)}`,
    );
  } finally {
    await stop([a, b]);
  }
}

async function main(): Promise<void> {
  countDir = await mkdtemp(join(tmpdir(), "wf-bench-trips-"));
  const admin = new pg.Client({ connectionString: ADMIN });
  await admin.connect();
  const dir = await mkdtemp(join(tmpdir(), "wf-bench-sqlite-"));
  try {
    console.log(
      `trivial sync runs (POST /workflows/trivial/run), wrk ${CONNECTIONS} connections, ${SECONDS} s per case`,
    );
    for (let round = 1; round <= ROUNDS; round++) {
      if (ROUNDS > 1) console.log(`round ${round} of ${ROUNDS}`);
      if (CASES.includes("sqlite"))
        await throughput("SQLite, 1 process", { WORKFLOWS_DB: join(dir, "w.db") }, 1);
      for (const count of [1, 2, 3]) {
        if (!CASES.includes(`pg${count}`)) continue;
        const db = await freshDatabase(admin);
        try {
          await throughput(
            `Postgres, ${count} process${count > 1 ? "es" : ""}`,
            { WORKFLOWS_DB: db.url },
            count,
          );
        } finally {
          await db.drop();
        }
      }
    }
    for (const [label, list] of ROUNDS > 1 ? ratios : []) {
      const sorted = [...list].sort((a, b) => a - b);
      const median = sorted[Math.floor(sorted.length / 2)] as number;
      console.log(
        `${label.padEnd(26)} of SQLite by round: ${list.map((x) => x.toFixed(2)).join(", ")}   median ${median.toFixed(2)}`,
      );
    }
    if (CASES.includes("trips")) {
      const db = await freshDatabase(admin);
      try {
        await trips(db.url);
      } finally {
        await db.drop();
      }
    }
    for (const ttl of CASES.includes("failover") ? [10_000, 2_000] : []) {
      const db = await freshDatabase(admin);
      try {
        await failover(db.url, ttl, 20);
      } finally {
        await db.drop();
      }
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
    await rm(countDir, { recursive: true, force: true });
    await admin.end();
  }
}

await main();
