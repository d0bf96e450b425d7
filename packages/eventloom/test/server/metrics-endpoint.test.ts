import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { StartEvent, StopEvent, Workflow } from "eventloom";
import { WorkflowClient } from "eventloom/client";
import { SqliteStore, WorkflowServer } from "eventloom/server";
import { afterEach, describe, expect, test } from "vitest";
import { type MetricFamily, parsePrometheusText, sampleValue } from "../support/prometheus-text.js";
import { eventually } from "../support/until.js";
import { Approval, approval, failing, greeting, waiting } from "./fixtures.js";

const TOKEN = "s3cret";

let server: WorkflowServer | null = null;
let dir: string | null = null;
afterEach(async () => {
  await server?.close();
  server = null;
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = null;
});

/** Fails its first attempt, completes its second. */
function flakyWorkflow(): Workflow {
  let calls = 0;
  return new Workflow({ name: "Flaky" }).step(
    "try",
    { accepts: [StartEvent], emits: [StopEvent], retry: { maxAttempts: 2, delay: 0 } },
    async () => {
      calls++;
      if (calls === 1) throw new Error("first attempt fails");
      return StopEvent.create({ result: calls });
    },
  );
}

async function start(): Promise<{ url: string; store: SqliteStore; client: WorkflowClient }> {
  dir = mkdtempSync(join(tmpdir(), "eventloom-metrics-"));
  const store = new SqliteStore(join(dir, "w.db"));
  server = new WorkflowServer({ store, token: TOKEN });
  server.addWorkflow("greet", greeting);
  server.addWorkflow("failing", failing);
  server.addWorkflow("flaky", flakyWorkflow());
  server.addWorkflow("approval", approval, { additionalEvents: [Approval] });
  server.addWorkflow("waiting", waiting);
  const { url } = await server.serve({ host: "127.0.0.1", port: 0 });
  return { url, store, client: new WorkflowClient({ baseUrl: url, token: TOKEN }) };
}

async function scrape(url: string): Promise<Map<string, MetricFamily>> {
  const res = await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } });
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toMatch(/^text\/plain; version=0\.0\.4/);
  return parsePrometheusText(await res.text());
}

const steps = "eventloom_step_duration_seconds";
const stepCount = (m: Map<string, MetricFamily>, workflow: string, step: string, outcome: string): number => {
  const family = m.get(steps) as MetricFamily;
  const found = family.samples.find(
    (s) =>
      s.name === `${steps}_count` &&
      s.labels["workflow"] === workflow &&
      s.labels["step"] === step &&
      s.labels["outcome"] === outcome,
  );
  return found?.value ?? 0;
};

describe("GET /metrics", () => {
  test("counts the runs made, their steps by outcome, their events, commits and open streams", async () => {
    const { url, store, client } = await start();
    const ids: Record<string, string[]> = { greet: [], failing: [], flaky: [], approval: [], waiting: [] };
    for (let i = 0; i < 2; i++) {
      const done = await client.runWorkflow("greet", { startEvent: StartEvent.create({ name: `n${i}` }) });
      expect(done.status).toBe("completed");
      ids["greet"]?.push(done.handlerId);
    }
    const failed = await client.runWorkflow("failing");
    expect(failed.status).toBe("failed");
    ids["failing"]?.push(failed.handlerId);
    const flaky = await client.runWorkflow("flaky");
    expect(flaky.status).toBe("completed");
    ids["flaky"]?.push(flaky.handlerId);
    const cancelled = (await client.runWorkflowNowait("waiting")).handlerId;
    expect(await client.cancelHandler(cancelled)).toBe("cancelled");
    ids["waiting"]?.push(cancelled);
    const asking = (await client.runWorkflowNowait("approval")).handlerId;
    ids["approval"]?.push(asking);

    // One reader on the waiting run, open: it has read the first event.
    const reader = client.getWorkflowEvents(asking, { includeInternal: true });
    expect((await reader.next()).done).toBe(false);

    const m = await eventually("the approval step waiting and every event stored", async () => {
      const now = await scrape(url);
      if (stepCount(now, "approval", "ask", "waiting") !== 1) return undefined;
      for (const [workflow, handlers] of Object.entries(ids)) {
        let stored = 0;
        for (const id of handlers) stored += (await store.lastSequence(id)) + 1;
        const published = sampleValue(
          now,
          "eventloom_events_published_total",
          "eventloom_events_published_total",
          {
            workflow,
          },
        );
        if (published !== stored) return undefined;
      }
      return now;
    });

    for (const [family, type] of [
      ["eventloom_runs_started_total", "counter"],
      ["eventloom_runs_ended_total", "counter"],
      ["eventloom_runs_active", "gauge"],
      [steps, "histogram"],
      ["eventloom_events_published_total", "counter"],
      ["eventloom_store_commit_duration_seconds", "histogram"],
      ["eventloom_stream_readers", "gauge"],
    ] as const) {
      expect(m.get(family)?.type, family).toBe(type);
      expect(m.get(family)?.help, family).toBeTruthy();
    }

    const started = (workflow: string) =>
      sampleValue(m, "eventloom_runs_started_total", "eventloom_runs_started_total", { workflow });
    expect(["greet", "failing", "flaky", "waiting", "approval"].map(started)).toEqual([2, 1, 1, 1, 1]);

    const ended = (workflow: string, status: string) =>
      sampleValue(m, "eventloom_runs_ended_total", "eventloom_runs_ended_total", { workflow, status });
    expect(ended("greet", "completed")).toBe(2);
    expect(ended("failing", "failed")).toBe(1);
    expect(ended("flaky", "completed")).toBe(1);
    expect(ended("waiting", "cancelled")).toBe(1);
    for (const status of ["completed", "failed", "cancelled"]) expect(ended("approval", status)).toBe(0);
    expect(ended("greet", "failed")).toBe(0);

    const active = (workflow: string) =>
      sampleValue(m, "eventloom_runs_active", "eventloom_runs_active", { workflow });
    expect(["greet", "failing", "flaky", "waiting", "approval"].map(active)).toEqual([0, 0, 0, 0, 1]);

    expect(stepCount(m, "greet", "greet", "completed")).toBe(2);
    // Each greeting pauses 3 × 20 ms: the durations are measured, not made up.
    expect(
      sampleValue(m, steps, `${steps}_sum`, { workflow: "greet", step: "greet", outcome: "completed" }),
    ).toBeGreaterThan(0.1);
    expect(stepCount(m, "failing", "explode", "failed")).toBe(1);
    expect(stepCount(m, "flaky", "try", "failed")).toBe(1);
    expect(stepCount(m, "flaky", "try", "completed")).toBe(1);
    expect(stepCount(m, "approval", "ask", "completed")).toBe(0);
    // The cancelled run's first step either finished or was cut short by the cancel: once either way.
    expect(
      stepCount(m, "waiting", "start", "completed") + stepCount(m, "waiting", "start", "interrupted"),
    ).toBe(1);

    const commits = "eventloom_store_commit_duration_seconds";
    expect(sampleValue(m, commits, `${commits}_count`)).toBeGreaterThanOrEqual(5);
    expect(sampleValue(m, commits, `${commits}_sum`)).toBeGreaterThan(0);

    expect(sampleValue(m, "eventloom_stream_readers", "eventloom_stream_readers")).toBe(1);
    await reader.return();
    await eventually("the reader's stream closed on the server", async () =>
      sampleValue(await scrape(url), "eventloom_stream_readers", "eventloom_stream_readers") === 0
        ? true
        : undefined,
    );
  });

  test("answers 401 without the token or with a wrong one, like the API", async () => {
    const { url } = await start();
    const none = await fetch(`${url}/metrics`);
    expect(none.status).toBe(401);
    expect(await none.json()).toMatchObject({ code: "UNAUTHORIZED" });
    const wrong = await fetch(`${url}/metrics`, { headers: { authorization: "Bearer nope" } });
    expect(wrong.status).toBe(401);
  });

  test("writes every registered workflow's series at zero before its first run", async () => {
    const { url } = await start();
    const m = await scrape(url);
    expect(
      sampleValue(m, "eventloom_runs_started_total", "eventloom_runs_started_total", { workflow: "greet" }),
    ).toBe(0);
    expect(
      sampleValue(m, "eventloom_runs_ended_total", "eventloom_runs_ended_total", {
        workflow: "greet",
        status: "failed",
      }),
    ).toBe(0);
    expect(m.get(steps)?.samples).toEqual([]);
    expect(
      sampleValue(
        m,
        "eventloom_store_commit_duration_seconds",
        "eventloom_store_commit_duration_seconds_count",
      ),
    ).toBe(0);
  });
});

describe("the tests' Prometheus text parser", () => {
  const good = '# HELP x_total A counter.\n# TYPE x_total counter\nx_total{a="1",b="q\\"\\\\\\n"} 3\n';

  test("reads HELP, TYPE, labels with escapes and values", () => {
    const m = parsePrometheusText(good);
    expect(m.get("x_total")).toEqual({
      name: "x_total",
      type: "counter",
      help: "A counter.",
      samples: [{ name: "x_total", labels: { a: "1", b: 'q"\\\n' }, value: 3 }],
    });
  });

  test.each([
    ["no final line feed", good.slice(0, -1)],
    ["a sample without TYPE", "x 1\n"],
    ["a sample of another family", "# TYPE x counter\ny 1\n"],
    ["a value that is not a number", "# TYPE x gauge\nx one\n"],
    ["two spaces", "# TYPE x gauge\nx  1\n"],
    ["an unquoted label value", "# TYPE x gauge\nx{a=1} 1\n"],
    ["an unterminated label value", '# TYPE x gauge\nx{a="1} 1\n'],
    ["a bad escape", '# TYPE x gauge\nx{a="\\t"} 1\n'],
    ["a bad label name", '# TYPE x gauge\nx{1a="1"} 1\n'],
    ["a label twice", '# TYPE x gauge\nx{a="1",a="2"} 1\n'],
    ["labels without a comma", '# TYPE x gauge\nx{a="1" b="2"} 1\n'],
    ["a series twice", "# TYPE x gauge\nx 1\nx 2\n"],
    ["an unknown type", "# TYPE x meter\n"],
    ["a second TYPE", "# TYPE x gauge\n# TYPE x gauge\n"],
    ["a malformed HELP", "#HELP x text\n"],
    ["a histogram without +Inf", '# TYPE h histogram\nh_bucket{le="1"} 1\nh_sum 1\nh_count 1\n'],
    [
      "a histogram whose +Inf is not its count",
      '# TYPE h histogram\nh_bucket{le="+Inf"} 2\nh_sum 1\nh_count 1\n',
    ],
    [
      "a histogram whose buckets shrink",
      '# TYPE h histogram\nh_bucket{le="1"} 2\nh_bucket{le="+Inf"} 1\nh_sum 1\nh_count 1\n',
    ],
  ])("rejects %s", (_what, text) => {
    expect(() => parsePrometheusText(text)).toThrow();
  });
});
