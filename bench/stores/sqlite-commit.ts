/**
 * How fast SqliteStore commits group batches, as the server's group commit sends them.
 *
 * One "run" = 1 handler upsert + 3 published events + 1 run state (a trivial run's writes).
 * For each `synchronous` mode and batch size (runs per commit), commits fresh runs into a new file
 * for a fixed time and prints runs/s, rows/s and commits/s.
 *
 *   npx tsx bench/stores/sqlite-commit.ts            # 2 s per case
 *   BENCH_SECONDS=5 npx tsx bench/stores/sqlite-commit.ts
 *   BENCH_SECONDS=30 BENCH_BATCHES=500 npx tsx bench/stores/sqlite-commit.ts   # sustained, growing file
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SqliteStore } from "../../packages/eventloom/src/stores/index.js";
import { merge, ROWS_PER_RUN, trivialRun } from "./trivial-run.js";

const SECONDS = Number(process.env["BENCH_SECONDS"] ?? 2);
const BATCH_SIZES = (process.env["BENCH_BATCHES"] ?? "1,10,100,500").split(",").map(Number);
const MODES = ["full", "normal"] as const;

async function measure(mode: (typeof MODES)[number], batchSize: number) {
  const dir = mkdtempSync(join(tmpdir(), "bench-sqlite-"));
  const store = new SqliteStore(join(dir, "bench.db"), { synchronous: mode });
  await store.init();
  let next = 0;
  const makeBatch = () =>
    merge(Array.from({ length: batchSize }, () => trivialRun(`h${next++}`, Date.now())));
  for (let i = 0; i < 5; i++) await store.commit(makeBatch()); // warm up
  let runs = 0;
  let commits = 0;
  let building = 0;
  const start = process.hrtime.bigint();
  const deadline = start + BigInt(Math.round(SECONDS * 1e9));
  while (process.hrtime.bigint() < deadline) {
    const t = process.hrtime.bigint();
    const batch = makeBatch();
    building += Number(process.hrtime.bigint() - t);
    await store.commit(batch);
    runs += batchSize;
    commits++;
  }
  const seconds = (Number(process.hrtime.bigint() - start) - building) / 1e9;
  const ok = store.integrityCheck();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
  return { runs, commits, seconds, ok };
}

const fmt = (n: number) => Math.round(n).toLocaleString("en-US").padStart(10);
console.log(
  `SqliteStore.commit, ${SECONDS}s per case, 1 run = 1 handler + 3 events + 1 state (${ROWS_PER_RUN} rows)`,
);
console.log(`node ${process.version}, ${process.platform}/${process.arch}, tmpdir ${tmpdir()}`);
console.log("sync    runs/commit     runs/s     rows/s  commits/s   ms/commit");
for (const mode of MODES) {
  for (const size of BATCH_SIZES) {
    const r = await measure(mode, size);
    if (r.ok !== "ok") throw new Error(`integrity check failed: ${r.ok}`);
    console.log(
      `${mode.padEnd(6)} ${String(size).padStart(12)} ${fmt(r.runs / r.seconds)} ${fmt((r.runs * ROWS_PER_RUN) / r.seconds)} ${fmt(r.commits / r.seconds)} ${((r.seconds * 1000) / r.commits).toFixed(3).padStart(11)}`,
    );
  }
}
