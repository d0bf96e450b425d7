// Load: 1,000 runs waiting for input at once plus 100 stream readers on one server (SQLite file,
// real socket, the real client). Every run finishes correctly once answered, no request fails,
// memory per waiting run is measured while the runs are in memory and after the idle release.
import { join } from "node:path";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { WorkflowClient } from "eventloom/client";
import { SqliteStore, WorkflowServer } from "eventloom/server";
import { afterAll, describe, expect, it } from "vitest";
import { tempDir } from "../packages/eventloom/test/cli/cli-process.js";
import { until } from "../packages/eventloom/test/support/until.js";
import { answerFor, ask, tortureAdditionalEvents } from "./fixtures/torture-workflows.js";
import { percentile, reportFigures, round } from "./support/figures.js";
import { GatedClock } from "./support/gated-clock.js";
import { sized } from "./support/mode.js";
import { allHandlers } from "./support/store-invariants.js";

const RUNS = sized(1000, 5000);
const READERS = 100;
const CONCURRENCY = 100;
const IDLE_RELEASE_MS = sized(8_000, 25_000);

setFlagsFromString("--expose-gc");
const gc = runInNewContext("gc") as () => void;

const cleanups: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
});

/** Memory after a full collection, in bytes. */
function memory(): { rss: number; heap: number } {
  gc();
  gc();
  const m = process.memoryUsage();
  return { rss: m.rss, heap: m.heapUsed + m.external };
}

/** Runs `task` for every item, at most `limit` at once. */
async function pool<T>(items: readonly T[], limit: number, task: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: limit }, async () => {
      while (next < items.length) await task(items[next++] as T);
    }),
  );
}

describe("load", () => {
  it(`${RUNS} runs waiting for input and ${READERS} stream readers: no errors, all finish right, memory bounded`, {
    timeout: sized(120_000, 900_000),
  }, async () => {
    const dir = await tempDir("reliability-load-");
    cleanups.push(dir.cleanup);
    const store = new SqliteStore(join(dir.path, "w.db"));
    // The idle release waits for the gate: on a busy machine starting the runs may take longer than it.
    const clock = new GatedClock(IDLE_RELEASE_MS);
    const server = new WorkflowServer({ store, idleReleaseMs: IDLE_RELEASE_MS, clock });
    server.addWorkflow("ask", ask, { additionalEvents: [...tortureAdditionalEvents.ask] });
    const { url } = await server.serve({ host: "127.0.0.1", port: 0 });
    cleanups.push(() => server.close());
    const client = new WorkflowClient({ baseUrl: url, timeoutMs: 30_000 });
    await client.isHealthy();
    const before = memory();
    const latency = { start: [] as number[], answer: [] as number[], result: [] as number[] };
    let errors = 0;
    const timed = async <T>(list: number[], op: () => Promise<T>): Promise<T> => {
      const t = performance.now();
      try {
        return await op();
      } catch (error) {
        errors++;
        throw error;
      } finally {
        list.push(performance.now() - t);
      }
    };

    const ids = Array.from({ length: RUNS }, (_, n) => `load-${n}`);
    const started = performance.now();
    await pool(ids, CONCURRENCY, async (id) => {
      await timed(latency.start, () =>
        client.runWorkflowNowait("ask", { handlerId: id, startEvent: { n: Number(id.slice(5)) } }),
      );
    });
    const startSeconds = (performance.now() - started) / 1000;

    // 100 readers, each following one run from its first event to its end.
    const readerIds = ids.filter((_, i) => i % Math.floor(RUNS / READERS) === 0).slice(0, READERS);
    const questions = new Set<string>();
    const readers = readerIds.map(async (id) => {
      const types: string[] = [];
      for await (const ev of client.getWorkflowEvents(id, { maxReconnects: 0 })) {
        types.push(ev.type);
        if (ev.type === "Question") questions.add(id);
      }
      return types;
    });
    await until(() => questions.size === readerIds.length, 60_000);
    const live = memory();
    const liveRuns = server.liveRunCount;
    // The idle release: waiting runs leave memory (they stay in the store).
    clock.open();
    await until(() => server.liveRunCount === 0, IDLE_RELEASE_MS * 20 + RUNS * 10);
    const released = memory();

    await pool(ids, CONCURRENCY, async (id) => {
      await timed(latency.answer, () =>
        client.sendEvent(id, { type: "Answer", value: { text: answerFor(Number(id.slice(5))) } }),
      );
    });
    for (const types of await Promise.all(readers)) expect(types).toEqual(["Question", "StopEvent"]);
    await until(() => server.liveRunCount === 0, 60_000);
    await pool(ids, CONCURRENCY, async (id) => {
      // every run ended and its last commit is durable once it left memory (liveRunCount 0)
      const result = await timed(latency.result, () => client.getResult(id));
      expect(result.result).toEqual({
        kind: "ask",
        n: Number(id.slice(5)),
        answer: answerFor(Number(id.slice(5))),
      });
    });
    const handlers = await allHandlers(store);
    expect(handlers.filter((h) => h.status === "completed")).toHaveLength(RUNS);
    expect(errors).toBe(0);

    const perRun = (m: { rss: number; heap: number }, key: "rss" | "heap") =>
      round((m[key] - before[key]) / RUNS / 1024, 1);
    // bounded: a waiting run costs a few KiB in memory. Released runs should cost nothing, but a
    // parked step stays referenced (test/regression/wait-for-event-leaks-parked-steps.test.ts):
    // the released figure is reported, not asserted, until that is fixed.
    expect(liveRuns, "every waiting run was in memory before the release").toBe(RUNS);
    expect(perRun(live, "heap")).toBeLessThan(100);
    reportFigures("load", {
      waiting_runs: RUNS,
      stream_readers: READERS,
      live_runs_before_release: liveRuns,
      request_errors: errors,
      starts_per_second: round(RUNS / startSeconds, 0),
      start_p50_ms: round(percentile(latency.start, 50)),
      start_p99_ms: round(percentile(latency.start, 99)),
      answer_p50_ms: round(percentile(latency.answer, 50)),
      answer_p99_ms: round(percentile(latency.answer, 99)),
      result_p50_ms: round(percentile(latency.result, 50)),
      result_p99_ms: round(percentile(latency.result, 99)),
      heap_kib_per_waiting_run_live: perRun(live, "heap"),
      heap_kib_per_waiting_run_released: perRun(released, "heap"),
      rss_kib_per_waiting_run_live: perRun(live, "rss"),
      rss_kib_per_waiting_run_released: perRun(released, "rss"),
      peak_rss_mib: round(process.resourceUsage().maxRSS / 1024, 0),
    });
  });
});
