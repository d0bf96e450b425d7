import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { StartEvent, StopEvent, Workflow } from "eventloom";
import { WorkflowClient } from "eventloom/client";
import { SqliteStore, WorkflowServer } from "eventloom/server";
import { afterAll, afterEach, beforeAll, describe, expect, test } from "vitest";
import { OtlpReceiver, type ReceivedSpan } from "../../support/otlp-receiver.js";
import { eventually } from "../../support/until.js";
import { Answer, tracedWorkflow } from "./tracing-workflows.js";

const receiver = new OtlpReceiver();
let dir = "";
let server: WorkflowServer | null = null;

beforeAll(async () => {
  await receiver.start();
  process.env["OTEL_EXPORTER_OTLP_ENDPOINT"] = receiver.url;
  process.env["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/json";
  process.env["OTEL_SERVICE_NAME"] = "traced-test";
  process.env["OTEL_BSP_SCHEDULE_DELAY"] = "20";
  dir = mkdtempSync(join(tmpdir(), "eventloom-otel-"));
});
afterEach(async () => {
  await server?.close();
  server = null;
});
afterAll(async () => {
  await receiver.close();
  rmSync(dir, { recursive: true, force: true });
});

async function serve(file: string, idleReleaseMs?: number): Promise<{ url: string }> {
  server = new WorkflowServer({
    store: new SqliteStore(join(dir, file)),
    ...(idleReleaseMs === undefined ? {} : { idleReleaseMs }),
  });
  server.addWorkflow("traced", tracedWorkflow(), { additionalEvents: [Answer] });
  server.addWorkflow("hang", hang);
  return server.serve({ host: "127.0.0.1", port: 0 });
}

/** A step that runs until its run stops: `hanging` says it started. */
let hanging = false;
const hang = new Workflow({ name: "Hang", timeout: null }).step(
  "forever",
  { accepts: [StartEvent], emits: [StopEvent] },
  async (ctx) => {
    hanging = true;
    await new Promise((resolve) => ctx.signal.addEventListener("abort", resolve));
    return StopEvent.create({ result: null });
  },
);

const TRACE = "4bf92f3577b34da6a3ce929d0e0e4736";
const CALLER = "00f067aa0ba902b7";

const attr = (s: ReceivedSpan, key: string) => s.attributes[key];

describe("tracing over OTLP/HTTP", () => {
  test("one trace for a run: its request, the run, each attempt, the user's span, the answer's request linked", async () => {
    const { url } = await serve("tree.db");
    const client = new WorkflowClient({ baseUrl: url, headers: { traceparent: `00-${TRACE}-${CALLER}-01` } });
    const { handlerId } = await client.runWorkflowNowait("traced");
    await eventually("the run to wait for its answer", async () => {
      const spans = receiver.spans.filter((s) => attr(s, "workflow.handler_id") === handlerId);
      return spans.some((s) => attr(s, "workflow.step.outcome") === "waiting") ? true : undefined;
    });
    const answering = new WorkflowClient({ baseUrl: url });
    await answering.sendEvent(handlerId, Answer.create({ ok: true }));
    const done = await eventually("the run to end", async () => {
      const h = await answering.getHandler(handlerId);
      return h.status === "running" ? undefined : h;
    });
    expect(done.result).toBe("yes");
    await server?.close();
    server = null;

    const mine = receiver.spans.filter((s) => s.traceId === TRACE);
    const start = mine.find((s) => s.name === "POST /workflows/{name}/run-nowait") as ReceivedSpan;
    expect(start.parentSpanId).toBe(CALLER);
    expect(start.serviceName).toBe("traced-test");
    expect(attr(start, "http.response.status_code")).toBe(200);
    const run = mine.find((s) => s.name === "workflow.run") as ReceivedSpan;
    expect(run.parentSpanId).toBe(start.spanId);
    expect(attr(run, "workflow.name")).toBe("traced");
    expect(attr(run, "workflow.handler_id")).toBe(handlerId);
    expect(typeof attr(run, "workflow.run_id")).toBe("string");

    const steps = mine.filter((s) => s.name === "workflow.step");
    for (const s of steps) expect(s.parentSpanId).toBe(run.spanId);
    const flaky = steps.filter((s) => attr(s, "workflow.step.name") === "flaky");
    expect(flaky.map((s) => attr(s, "workflow.step.attempt")).sort()).toEqual([1, 2]);
    const [first, second] = [1, 2].map((n) => flaky.find((s) => attr(s, "workflow.step.attempt") === n));
    expect(first?.statusCode).toBe(2);
    expect(first?.events.map((e) => e.name)).toContain("exception");
    expect(first?.events.find((e) => e.name === "exception")?.attributes["exception.message"]).toBe(
      "attempt 1 fails",
    );
    expect(second?.statusCode).not.toBe(2);
    expect(attr(second as ReceivedSpan, "workflow.step.outcome")).toBe("completed");
    // The span user code made inside the step is the step's child; what it streamed, an event of it.
    const user = mine.find((s) => s.name === "user.work") as ReceivedSpan;
    expect(user.parentSpanId).toBe(second?.spanId);
    expect(second?.events.map((e) => e.name)).toContain("Progress");

    // `ask` ran twice: it waited (publishing Ask), then ran again with the answer and ended the run.
    const ask = steps.filter((s) => attr(s, "workflow.step.name") === "ask");
    expect(ask.map((s) => attr(s, "workflow.step.outcome")).sort()).toEqual(["completed", "waiting"]);
    expect(
      ask.find((s) => attr(s, "workflow.step.outcome") === "waiting")?.events.map((e) => e.name),
    ).toContain("Ask");
    expect(
      ask.find((s) => attr(s, "workflow.step.outcome") === "completed")?.events.map((e) => e.name),
    ).toContain("StopEvent");

    // The answer's request has its own trace, linked to the run's.
    const answer = receiver.spans.find((s) => s.name === "POST /events/{handler_id}") as ReceivedSpan;
    expect(answer.traceId).not.toBe(TRACE);
    expect(answer.links).toEqual([{ traceId: TRACE, spanId: run.spanId }]);
  });

  test("a run released when idle keeps its trace when an answer wakes it", async () => {
    const { url } = await serve("idle.db", 0);
    const client = new WorkflowClient({ baseUrl: url });
    const { handlerId } = await client.runWorkflowNowait("traced");
    await eventually("the idle run to leave memory", () =>
      server?.liveRunCount === 0 &&
      receiver.spans.some(
        (s) => attr(s, "workflow.handler_id") === handlerId && attr(s, "workflow.step.outcome") === "waiting",
      )
        ? true
        : undefined,
    );
    const run = receiver.spans.find(
      (s) => s.name === "workflow.run" && attr(s, "workflow.handler_id") === handlerId,
    ) as ReceivedSpan;
    await client.sendEvent(handlerId, Answer.create({ ok: false }));
    const ended = await eventually("the run to end", async () => {
      const h = await client.getHandler(handlerId);
      return h.status === "running" ? undefined : h;
    });
    expect(ended.result).toBe("no");
    await server?.close();
    server = null;
    const after = receiver.spans.filter(
      (s) => attr(s, "workflow.handler_id") === handlerId && attr(s, "workflow.step.outcome") === "completed",
    );
    expect(after.map((s) => attr(s, "workflow.step.name"))).toContain("ask");
    for (const s of after) {
      expect(s.traceId).toBe(run.traceId);
      expect(s.parentSpanId).toBe(run.spanId);
    }
    expect(
      receiver.named("workflow.run").filter((s) => attr(s, "workflow.handler_id") === handlerId),
    ).toHaveLength(1);
  });

  test("a step running when the server shuts down ends its span as suspended, exported before close() resolves", async () => {
    const { url } = await serve("shutdown.db");
    const { handlerId } = await new WorkflowClient({ baseUrl: url }).runWorkflowNowait("hang");
    await eventually("the step to run", () => (hanging ? true : undefined));
    await server?.close();
    server = null;
    const step = receiver.spans.find(
      (s) => s.name === "workflow.step" && attr(s, "workflow.handler_id") === handlerId,
    ) as ReceivedSpan;
    expect(attr(step, "workflow.step.outcome")).toBe("suspended");
    expect(attr(step, "workflow.step.name")).toBe("forever");
  });

  test("two servers of one process share the SDK they start: closing one leaves the other tracing", async () => {
    const first = new WorkflowServer({ store: new SqliteStore(join(dir, "first.db")) });
    first.addWorkflow(
      "traced",
      tracedWorkflow(() => false),
      { additionalEvents: [Answer] },
    );
    await first.start();
    const { url } = await serve("second.db");
    await first.close();
    const client = new WorkflowClient({ baseUrl: url });
    const { handlerId } = await client.runWorkflowNowait("traced");
    await client.sendEvent(handlerId, Answer.create({ ok: true }));
    await eventually("the run to end", async () =>
      (await client.getHandler(handlerId)).status === "completed" ? true : undefined,
    );
    await server?.close();
    server = null;
    const steps = receiver.spans.filter(
      (s) => s.name === "workflow.step" && attr(s, "workflow.handler_id") === handlerId,
    );
    expect(steps.map((s) => attr(s, "workflow.step.name"))).toContain("ask");
  });
});
