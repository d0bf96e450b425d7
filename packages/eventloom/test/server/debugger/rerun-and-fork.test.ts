import { join } from "node:path";
import { defineEvent, StartEvent, StopEvent, Workflow } from "eventloom";
import { WorkflowClient, type WorkflowClientError } from "eventloom/client";
import { SqliteStore, WorkflowServer } from "eventloom/server";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { z } from "zod";
import { tempDir } from "../helpers.js";

// Issue 15: the start event in the handler record, re-runs and forks (POST /handlers/{id}/fork),
// and error stacks in the events, over a real socket and a real SQLite file.

const Topic = defineEvent("Topic", z.object({ topic: z.string() }), { extends: StartEvent });
const Progress = defineEvent("Progress", z.object({ n: z.number() }));

/** Writes its count to the stream and sends it on: the stored Progress is a fork point. */
const twoSteps = new Workflow({ name: "two" })
  .step("first", { accepts: [Topic], emits: [Progress] }, async (ctx, ev) => {
    const progress = Progress.create({ n: ev.data.topic.length });
    ctx.writeEventToStream(progress);
    ctx.sendEvent(progress);
    return null;
  })
  .step("second", { accepts: [Progress], emits: [StopEvent] }, async (_ctx, ev) =>
    StopEvent.create({ result: ev.data.n * 10 }),
  );

/** Fails twice, each attempt with its own message. */
const flaky = new Workflow({ name: "flaky" }).step(
  "explode",
  { accepts: [StartEvent], emits: [StopEvent], retry: { maxAttempts: 2, delay: 0 } },
  async (ctx) => {
    const attempt = ctx.store.get<number>("attempt", 0) + 1;
    ctx.store.set("attempt", attempt);
    throw new TypeError(`boom ${attempt}`);
  },
);

/** Starts a child of `two` for its topic: a run not started by a request. */
const parent = new Workflow({ name: "parent" }).step(
  "delegate",
  { accepts: [StartEvent], emits: [StopEvent] },
  async (ctx) => StopEvent.create({ result: await ctx.runWorkflow("two", Topic.create({ topic: "child" })) }),
);

let dir: ReturnType<typeof tempDir>;
let server: WorkflowServer;
let client: WorkflowClient;

beforeEach(async () => {
  dir = tempDir();
  server = new WorkflowServer({ store: new SqliteStore(join(dir.dir, "w.db")), token: "" });
  server.addWorkflow("two", twoSteps);
  server.addWorkflow("flaky", flaky);
  server.addWorkflow("parent", parent);
  const { url } = await server.serve({ host: "127.0.0.1", port: 0 });
  client = new WorkflowClient({ baseUrl: url });
});
afterEach(async () => {
  await server.close();
  dir.remove();
});

const finished = async (handlerId: string) => {
  for await (const _ of client.getWorkflowEvents(handlerId)) {
    // read to the end: the stream ends with the run
  }
  return client.getHandler(handlerId);
};

describe("the start event in the handler record", () => {
  test("GET /handlers/{id} carries the event the run started with; listings do not", async () => {
    const { handlerId } = await client.runWorkflowNowait("two", { startEvent: { topic: "abc" } });
    const record = await finished(handlerId);
    expect(record.result).toBe(30);
    expect(record.startEvent).toEqual({ type: "Topic", qualifiedName: "Topic", value: { topic: "abc" } });
    const page = await client.getHandlersPage({ workflowName: "two" });
    expect(page.handlers[0]?.handlerId).toBe(handlerId);
    expect(page.handlers[0]?.startEvent).toBeUndefined();
  });
});

describe("the start event of a run not started by a request", () => {
  test("a child run keeps its start event: its record shows it, and it re-runs and forks like any run", async () => {
    const { handlerId } = await client.runWorkflowNowait("parent");
    expect((await finished(handlerId)).result).toBe(50);
    const [child] = (await client.getHandlersPage({ parentHandlerId: handlerId })).handlers;
    expect(child?.parentHandlerId).toBe(handlerId);
    const record = await client.getHandler(child!.handlerId);
    expect(record.startEvent).toEqual({ type: "Topic", qualifiedName: "Topic", value: { topic: "child" } });
    const again = await client.forkHandler(child!.handlerId);
    expect((await finished(again.handlerId)).result).toBe(50);
    const edited = await client.forkHandler(child!.handlerId, { startEvent: { topic: "children" } });
    expect((await finished(edited.handlerId)).result).toBe(80);
  });
});

describe("POST /handlers/{id}/fork", () => {
  test("re-runs with the kept start event, or with an edited one", async () => {
    const { handlerId } = await client.runWorkflowNowait("two", { startEvent: { topic: "abc" } });
    await finished(handlerId);
    const same = await client.forkHandler(handlerId);
    expect(same.handlerId).not.toBe(handlerId);
    expect((await finished(same.handlerId)).result).toBe(30);
    const edited = await client.forkHandler(handlerId, { startEvent: { topic: "abcdef" } });
    const record = await finished(edited.handlerId);
    expect(record.result).toBe(60);
    expect(record.startEvent?.value).toEqual({ topic: "abcdef" });
  });

  test("forks from a stored event a step accepts: the run begins at that step", async () => {
    const { handlerId } = await client.runWorkflowNowait("two", { startEvent: { topic: "abcd" } });
    await finished(handlerId);
    const events = [];
    for await (const ev of client.getWorkflowEvents(handlerId, { includeInternal: true })) events.push(ev);
    const progress = events.find((e) => e.type === "Progress");
    expect(progress?.value).toEqual({ n: 4 });
    const forked = await client.forkHandler(handlerId, { fromSequence: progress!.sequence });
    const record = await finished(forked.handlerId);
    expect(record.result).toBe(40);
    // The fork's record shows the start event of the run it came from.
    expect(record.startEvent?.value).toEqual({ topic: "abcd" });
    const steps = [];
    for await (const ev of client.getWorkflowEvents(forked.handlerId, { includeInternal: true }))
      if (ev.type === "StepStateChanged" && ev.value["state"] === "running") steps.push(ev.value["step"]);
    expect(steps).toEqual(["second"]);
  });

  test("refuses a fork point no step accepts, both fields at once, and an unknown handler", async () => {
    const { handlerId } = await client.runWorkflowNowait("two", { startEvent: { topic: "ab" } });
    await finished(handlerId);
    const refused = (p: Promise<unknown>) =>
      p.then(
        () => null,
        (e: unknown) => e as WorkflowClientError,
      );
    // Sequence 0 is the first step's internal step-state event.
    expect(await refused(client.forkHandler(handlerId, { fromSequence: 0 }))).toMatchObject({
      status: 400,
      code: "INVALID_FORK_POINT",
    });
    expect(await refused(client.forkHandler(handlerId, { fromSequence: 9999 }))).toMatchObject({
      status: 400,
      code: "INVALID_FORK_POINT",
    });
    expect(
      await refused(client.forkHandler(handlerId, { fromSequence: 1, startEvent: { topic: "x" } })),
    ).toMatchObject({ status: 400, code: "INVALID_BODY" });
    expect(await refused(client.forkHandler("nope"))).toMatchObject({
      status: 404,
      code: "HANDLER_NOT_FOUND",
    });
  });
});

describe("errors with their stacks", () => {
  test("each failed attempt's step-state event and the failed event carry the error's stack", async () => {
    const { handlerId } = await client.runWorkflowNowait("flaky");
    const events = [];
    for await (const ev of client.getWorkflowEvents(handlerId, { includeInternal: true })) events.push(ev);
    const errors = events
      .filter((e) => e.type === "StepStateChanged" && e.value["error"])
      .map((e) => e.value["error"] as { name: string; message: string; stack: string });
    expect(errors.map((e) => [e.name, e.message])).toEqual([
      ["TypeError", "boom 1"],
      ["TypeError", "boom 2"],
    ]);
    for (const e of errors) expect(e.stack).toMatch(/TypeError: boom \d\n\s+at /);
    const failed = events.at(-1)!;
    expect(failed.type).toBe("WorkflowFailedEvent");
    expect((failed.value["error"] as { stack: string }).stack).toContain("rerun-and-fork.test.ts");
  });
});
