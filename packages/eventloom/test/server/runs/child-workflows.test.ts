// ctx.runWorkflow (round 2 §7): a child run is its own handler with parent_handler_id, started once,
// its result or error delivered to the waiting step, cancelled with its parent; { wait: false }
// only starts it.
import { afterEach, expect, it } from "vitest";
import { z } from "zod";
import {
  ChildWorkflowError,
  defineEvent,
  HumanResponseEvent,
  StartEvent,
  StopEvent,
  Workflow,
} from "../../../src/core/index.js";
import type { WorkflowServer } from "../../../src/server/index.js";
import { call, callJson, type Envelope, makeServer, readNdjson, until } from "../helpers.js";

const servers: WorkflowServer[] = [];
afterEach(async () => {
  await Promise.allSettled(servers.splice(0).map((s) => s.close()));
});

const Doc = defineEvent("ChildDoc", z.object({ text: z.string() }), { extends: StartEvent });
const Docs = defineEvent("ParentDocs", z.object({ texts: z.array(z.string()) }), { extends: StartEvent });
const Go = defineEvent("ChildGo", z.object({}), { extends: HumanResponseEvent });

let parentRuns = 0;
const summarize = new Workflow({ name: "Summarize", timeout: null }).step(
  "sum",
  { accepts: [Doc], emits: [StopEvent] },
  async (_ctx, ev) => {
    if (ev.data.text === "boom") throw new Error("cannot summarize boom");
    return StopEvent.create({ result: ev.data.text.toUpperCase() });
  },
);
const gated = new Workflow({ name: "Gated", timeout: null }).step(
  "gate",
  { accepts: [Doc], emits: [StopEvent], waitsFor: [Go] },
  async (ctx, ev) => {
    await ctx.waitForEvent(Go);
    return StopEvent.create({ result: ev.data.text });
  },
);
const research = new Workflow({ name: "Research", timeout: null }).step(
  "each",
  { accepts: [Docs], emits: [StopEvent] },
  async (ctx, ev) => {
    parentRuns++;
    const out: unknown[] = [];
    for (const text of ev.data.texts) {
      try {
        out.push(await ctx.runWorkflow("summarize", Doc.create({ text })));
      } catch (error) {
        out.push(error instanceof ChildWorkflowError ? `error: ${error.message}` : "other");
      }
    }
    return StopEvent.create({ result: out });
  },
);
const waitsOnGated = new Workflow({ name: "WaitsOnGated", timeout: null }).step(
  "one",
  { accepts: [StartEvent], emits: [StopEvent] },
  async (ctx) =>
    StopEvent.create({
      result: await ctx.runWorkflow("gated", Doc.create({ text: "x" }), { id: "gated-child" }),
    }),
);
const fireAndForget = new Workflow({ name: "FireAndForget", timeout: null }).step(
  "start",
  { accepts: [StartEvent], emits: [StopEvent] },
  async (ctx) => {
    const { handlerId } = await ctx.runWorkflow(gated, Doc.create({ text: "later" }), { wait: false });
    return StopEvent.create({ result: handlerId });
  },
);

function server(): WorkflowServer {
  const s = makeServer({ idleReleaseMs: 50 });
  s.addWorkflow("summarize", summarize);
  s.addWorkflow("gated", gated);
  s.addWorkflow("research", research);
  s.addWorkflow("waitsOnGated", waitsOnGated);
  s.addWorkflow("fireAndForget", fireAndForget);
  servers.push(s);
  return s;
}

const record = async (s: WorkflowServer, id: string) => (await callJson(s, "GET", `/handlers/${id}`)).body;

it("runs a child per document and hands each result (or error) to the waiting step", async () => {
  const s = server();
  parentRuns = 0;
  const { body } = await callJson(s, "POST", "/workflows/research/run", {
    start_event: { texts: ["a", "boom", "c"] },
  });
  expect(body).toMatchObject({
    status: "completed",
    result: [
      "A",
      expect.stringContaining('failed: Step "sum" failed after 1 attempt(s): Error: cannot summarize boom'),
      "C",
    ],
  });
  // The step ran once, then once more after each child's end.
  expect(parentRuns).toBe(4);
  const children = (
    await callJson<{ handlers: { parent_handler_id?: string; workflow_name: string }[] }>(
      s,
      "GET",
      "/handlers?workflow_name=summarize",
    )
  ).body.handlers;
  expect(children).toHaveLength(3);
  for (const c of children) expect(c.parent_handler_id).toBe(body["handler_id"]);
});

it("a parent released while its child waits gets the child's result once the child ends", async () => {
  const s = server();
  const { body } = await callJson<{ handler_id: string }>(
    s,
    "POST",
    "/workflows/waitsOnGated/run-nowait",
    {},
  );
  await until(async () => (await record(s, "gated-child"))["status"] === "running");
  expect(await record(s, "gated-child")).toMatchObject({ parent_handler_id: body.handler_id });
  await until(() => s.liveRunCount === 0); // both released (idleReleaseMs 50)
  expect(
    (await callJson(s, "POST", "/events/gated-child", { event: { type: "ChildGo", value: {} } })).status,
  ).toBe(200);
  await until(async () => (await record(s, body.handler_id))["status"] === "completed");
  expect(await record(s, body.handler_id)).toMatchObject({ result: "x" });
});

it("cancelling a parent cancels its running child", async () => {
  const s = server();
  const { body } = await callJson<{ handler_id: string }>(
    s,
    "POST",
    "/workflows/waitsOnGated/run-nowait",
    {},
  );
  await until(async () => (await record(s, "gated-child"))["status"] === "running");
  expect((await callJson(s, "POST", `/handlers/${body.handler_id}/cancel`)).status).toBe(200);
  await until(async () => (await record(s, "gated-child"))["status"] === "cancelled");
});

it("with { wait: false } the step gets the child's handler id and goes on", async () => {
  const s = server();
  const { body } = await callJson(s, "POST", "/workflows/fireAndForget/run", {});
  expect(body).toMatchObject({ status: "completed" });
  const childId = body["result"] as string;
  expect(await record(s, childId)).toMatchObject({
    workflow_name: "gated",
    status: "running",
    parent_handler_id: body["handler_id"],
  });
});

it("include_children=true interleaves the children's events, each envelope with its handler_id", async () => {
  const s = server();
  const { body } = await callJson<{ handler_id: string }>(s, "POST", "/workflows/research/run-nowait", {
    start_event: { texts: ["x", "y"] },
  });
  const res = await call(s, "GET", `/events/${body.handler_id}?sse=false&include_children=true`);
  expect(res.status).toBe(200);
  const envelopes = (await readNdjson(res)) as (Envelope & { handler_id: string })[];
  const byHandler = new Map<string, string[]>();
  for (const e of envelopes) byHandler.set(e.handler_id, [...(byHandler.get(e.handler_id) ?? []), e.type]);
  expect(byHandler.size).toBe(3);
  expect(byHandler.get(body.handler_id)?.at(-1)).toBe("StopEvent");
  const children = [...byHandler.keys()].filter((id) => id !== body.handler_id);
  for (const id of children) expect(byHandler.get(id)).toEqual(["StopEvent"]);
  // Without it: the parent's events only, as before.
  const plain = await readNdjson(await call(s, "GET", `/events/${body.handler_id}?sse=false`));
  expect(plain.every((e) => !("handler_id" in e))).toBe(true);
});
