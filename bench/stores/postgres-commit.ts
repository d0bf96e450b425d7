/**
 * How fast PostgresStore commits group batches, as the server's group commit sends them.
 *
 * One "run" = 1 handler upsert + 3 published events + 1 run state (a trivial run's writes).
 * For each number of concurrent writers and batch size (runs per commit), commits fresh runs into a
 * new database for a fixed time and prints runs/s, rows/s, commits/s and commit latency.
 * Every commit is one statement (one round trip) that also NOTIFYs the changed handlers.
 *
 *   npx tsx bench/stores/postgres-commit.ts            # 2 s per case, postgres://postgres@127.0.0.1:5432
 *   BENCH_SECONDS=5 BENCH_WRITERS=1,4,16 npx tsx bench/stores/postgres-commit.ts
 *   BENCH_POSTGRES=postgres://user@host:5432/postgres npx tsx bench/stores/postgres-commit.ts
 */
import { randomBytes } from "node:crypto";
import pg from "pg";
import { PostgresStore } from "../../packages/eventloom/src/stores/postgres/index.js";
import { merge, ROWS_PER_RUN, trivialRun } from "./trivial-run.js";

const ADMIN_URL = process.env["BENCH_POSTGRES"] ?? "postgres://postgres@127.0.0.1:5432/postgres";
const SECONDS = Number(process.env["BENCH_SECONDS"] ?? 2);
const BATCH_SIZES = (process.env["BENCH_BATCHES"] ?? "1,10,100,500").split(",").map(Number);
const WRITERS = (process.env["BENCH_WRITERS"] ?? "1,4").split(",").map(Number);

async function measure(url: string, writers: number, batchSize: number) {
  const schema = `bench_${writers}_${batchSize}`;
  const store = new PostgresStore({ connectionString: url, max: writers + 1 }, { schema });
  await store.init();
  let next = 0;
  const makeBatch = () =>
    merge(
      Array.from({ length: batchSize }, () => trivialRun(`h${String(next++).padStart(10, "0")}`, Date.now())),
    );
  for (let i = 0; i < 5; i++) await store.commit(makeBatch()); // warm up
  let runs = 0;
  const latencies: number[] = [];
  const start = performance.now();
  const deadline = start + SECONDS * 1000;
  await Promise.all(
    Array.from({ length: writers }, async () => {
      while (performance.now() < deadline) {
        const batch = makeBatch();
        const t = performance.now();
        await store.commit(batch);
        latencies.push(performance.now() - t);
        runs += batchSize;
      }
    }),
  );
  const seconds = (performance.now() - start) / 1000;
  await store.close();
  latencies.sort((a, b) => a - b);
  const pct = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * p))] ?? 0;
  return { runs, commits: latencies.length, seconds, p50: pct(0.5), p95: pct(0.95) };
}

const admin = new pg.Client({ connectionString: ADMIN_URL });
await admin.connect();
const dbName = `workflows_bench_${randomBytes(4).toString("hex")}`;
await admin.query(`CREATE DATABASE ${dbName}`);
const url = new URL(ADMIN_URL);
url.pathname = `/${dbName}`;
try {
  const version = (await admin.query<{ v: string }>("SELECT current_setting('server_version') AS v")).rows[0]
    ?.v;
  const sync = (await admin.query<{ s: string }>("SELECT current_setting('synchronous_commit') AS s")).rows[0]
    ?.s;
  console.log(
    `PostgresStore.commit, ${SECONDS}s per case, 1 run = 1 handler + 3 events + 1 state (${ROWS_PER_RUN} rows)`,
  );
  console.log(`node ${process.version}, PostgreSQL ${version} (synchronous_commit ${sync}), ${url.host}`);
  console.log("writers  runs/commit     runs/s     rows/s  commits/s  p50 ms  p95 ms");
  const fmt = (n: number) => Math.round(n).toLocaleString("en-US").padStart(10);
  for (const writers of WRITERS) {
    for (const size of BATCH_SIZES) {
      const r = await measure(url.toString(), writers, size);
      console.log(
        `${String(writers).padStart(7)} ${String(size).padStart(12)} ${fmt(r.runs / r.seconds)} ${fmt((r.runs * ROWS_PER_RUN) / r.seconds)} ${fmt(r.commits / r.seconds)} ${r.p50.toFixed(2).padStart(7)} ${r.p95.toFixed(2).padStart(7)}`,
      );
    }
  }
} finally {
  await admin.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
  await admin.end();
}
