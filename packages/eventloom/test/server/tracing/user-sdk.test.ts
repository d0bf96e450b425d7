// A user who registered their own OpenTelemetry SDK gets the server's spans in their pipeline, with
// no option and no OTEL_* variable; closing the server leaves their SDK running.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { InMemorySpanExporter, SimpleSpanProcessor } from "@opentelemetry/sdk-trace-base";
import { NodeTracerProvider } from "@opentelemetry/sdk-trace-node";
import { WorkflowClient } from "eventloom/client";
import { SqliteStore, WorkflowServer } from "eventloom/server";
import { afterAll, expect, test } from "vitest";
import { eventually } from "../../support/until.js";
import { Answer, tracedWorkflow } from "./tracing-workflows.js";

const dir = mkdtempSync(join(tmpdir(), "eventloom-otel-user-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

test("spans go to the user's registered provider; user spans in a step are the step's children", async () => {
  for (const name of Object.keys(process.env)) if (name.startsWith("OTEL_")) delete process.env[name];
  const exporter = new InMemorySpanExporter();
  const provider = new NodeTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  provider.register();
  const server = new WorkflowServer({ store: new SqliteStore(join(dir, "w.db")) });
  server.addWorkflow(
    "traced",
    tracedWorkflow(() => false),
    { additionalEvents: [Answer] },
  );
  const { url } = await server.serve({ host: "127.0.0.1", port: 0 });
  const client = new WorkflowClient({ baseUrl: url });
  const { handlerId } = await client.runWorkflowNowait("traced");
  await client.sendEvent(handlerId, Answer.create({ ok: true }));
  await eventually("the run to end", async () =>
    (await client.getHandler(handlerId)).status === "completed" ? true : undefined,
  );
  await server.close();

  const spans = exporter.getFinishedSpans();
  const run = spans.find((s) => s.name === "workflow.run");
  expect(run?.attributes["workflow.handler_id"]).toBe(handlerId);
  const flaky = spans.find(
    (s) => s.name === "workflow.step" && s.attributes["workflow.step.name"] === "flaky",
  );
  expect(flaky?.parentSpanContext?.spanId).toBe(run?.spanContext().spanId);
  const user = spans.find((s) => s.name === "user.work");
  expect(user?.parentSpanContext?.spanId).toBe(flaky?.spanContext().spanId);
  expect(user?.spanContext().traceId).toBe(run?.spanContext().traceId);

  // The server did not shut the user's SDK down: it still records.
  const before = exporter.getFinishedSpans().length;
  provider.getTracer("after").startSpan("after.close").end();
  expect(exporter.getFinishedSpans().length).toBe(before + 1);
  await provider.shutdown();
});
