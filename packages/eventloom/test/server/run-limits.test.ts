// Run limits (`addWorkflow(…, { concurrency })`) in process, on a MemoryStore: what addWorkflow
// refuses, what a start refuses, and a queued run's events and timeout. The limits under load,
// across processes and across SIGKILL are proven in test/integration/run-limits*.test.ts.
import { defineEvent, HumanResponseEvent, StartEvent, StopEvent, Workflow } from "eventloom";
import { WorkflowClient } from "eventloom/client";
import { MemoryStore, WorkflowServer } from "eventloom/server";
import { afterEach, describe, expect, it } from "vitest";
import { z } from "zod";
import { FakeClock } from "../core/fake-clock.js";
import { FaultyStore } from "../support/faulty-store.js";
import { add } from "./fixtures.js";
import { until } from "./helpers.js";

const Task = defineEvent("Task", z.object({ tenant: z.string() }), { extends: StartEvent });
const Go = defineEvent("Go", z.object({ note: z.string() }), { extends: HumanResponseEvent });

/** Each run waits for a Go event, then ends with its note: it holds its place until then. */
const held = new Workflow({ name: "held", timeout: 3600 }).step(
  "wait",
  { accepts: [Task], emits: [StopEvent], waitsFor: [Go] },
  async (ctx, ev) => {
    const go = await ctx.waitForEvent(Go);
    return StopEvent.create({ result: `${ev.data.tenant}:${go.data.note}` });
  },
);

const servers: WorkflowServer[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close();
});

function serverWith(limit: number, clock?: FakeClock): { server: WorkflowServer; client: WorkflowClient } {
  const server = new WorkflowServer({ store: new MemoryStore(), token: "", ...(clock ? { clock } : {}) });
  server.addWorkflow("held", held, { concurrency: { limit, key: (d: { tenant: string }) => d.tenant } });
  servers.push(server);
  const client = new WorkflowClient({
    baseUrl: "http://localhost",
    fetch: (url, init) => server.fetch(new Request(url, init)),
  });
  return { server, client };
}

describe("run limits", () => {
  it.each([
    [{ limit: 0 }, "concurrency.limit must be an integer of 1 or more, got 0"],
    [{ limit: 1.5 }, "concurrency.limit must be an integer of 1 or more, got 1.5"],
    [{ limit: "3" }, 'concurrency.limit must be an integer of 1 or more, got "3"'],
    [{}, "concurrency.limit must be an integer of 1 or more, got undefined"],
    [
      { limit: 2, key: "tenant" },
      'concurrency.key must be a function of the start event\'s data, got "tenant"',
    ],
    [{ limit: 2, keys: () => "" }, "concurrency has unknown option(s): keys"],
    [3, "concurrency must be an object { limit, key? }, got 3"],
  ])("addWorkflow refuses concurrency %j with a clear error, registering nothing", (concurrency, message) => {
    const server = new WorkflowServer({ store: new MemoryStore(), token: "" });
    servers.push(server);
    // @ts-expect-error: what a JavaScript caller may pass
    expect(() => server.addWorkflow("add", add, { concurrency })).toThrow(
      new TypeError(`addWorkflow("add"): ${message}`),
    );
    expect(server.workflowNames).toEqual([]);
  });

  it("a start whose key cannot be made is refused with 400 and stores nothing", async () => {
    const server = new WorkflowServer({ store: new MemoryStore(), token: "" });
    servers.push(server);
    server.addWorkflow("add", add, {
      concurrency: {
        limit: 1,
        key: (d: { a: number }) => {
          if (d.a < 0) throw new Error("no tenant for a negative a");
          return d.a as unknown as string;
        },
      },
    });
    const post = (a: number) =>
      server.fetch(
        new Request("http://localhost/workflows/add/run-nowait", {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ start_event: { a, b: 1 } }),
        }),
      );
    for (const [a, why] of [
      [-1, "its key function threw: no tenant for a negative a"],
      [1, "its key function returned number, not a string"],
    ] as const) {
      const res = await post(a);
      expect(res.status).toBe(400);
      expect(await res.json()).toMatchObject({
        code: "VALIDATION_ERROR",
        detail: `The run limit of workflow "add" has no key: ${why}`,
      });
    }
    const page = await server.fetch(new Request("http://localhost/handlers"));
    expect(((await page.json()) as { handlers: unknown[] }).handlers).toEqual([]);
  });

  it("a queued run keeps the events sent to it for when it starts", async () => {
    const { server, client } = serverWith(1);
    const first = await client.runWorkflowNowait("held", { startEvent: { tenant: "t" } });
    const second = await client.runWorkflowNowait("held", { startEvent: { tenant: "t" } });
    // Its start event is kept with its queued record (GET /handlers/{id} shows it).
    expect(await client.getHandler(second.handlerId)).toMatchObject({
      queued: true,
      queuePosition: 1,
      startEvent: { value: { tenant: "t" } },
    });
    // Sent while it waits: kept in its inbox, taken in once it runs.
    await client.sendEvent(second.handlerId, { type: "Go", value: { note: "early" } });
    expect(server.liveRunCount).toBe(1);
    await client.sendEvent(first.handlerId, { type: "Go", value: { note: "one" } });
    await until(async () => (await client.getHandler(second.handlerId)).status === "completed");
    expect(await client.getResult(first.handlerId)).toMatchObject({ result: "t:one" });
    const done = await client.getHandler(second.handlerId);
    expect(done).toMatchObject({ result: "t:early" });
    expect(done.queued).toBeUndefined();
  });

  it("a queued run's timeout counts from when it leaves the queue", async () => {
    const clock = new FakeClock(0);
    const { server, client } = serverWith(1, clock);
    const first = await client.runWorkflowNowait("held", { startEvent: { tenant: "t" } });
    const second = await client.runWorkflowNowait("held", { startEvent: { tenant: "t" } });
    // 3000 s in the queue, under a timeout of 3600 s: then the first run ends and the second starts.
    await clock.advance(3_000_000);
    await client.sendEvent(first.handlerId, { type: "Go", value: { note: "one" } });
    // Begun in memory (its deadline set): the first has ended and one run is live again.
    await until(
      async () =>
        (await client.getHandler(first.handlerId)).status === "completed" && server.liveRunCount === 1,
    );
    await clock.advance(3_000_000);
    expect((await client.getHandler(second.handlerId)).status).toBe("running");
    await clock.advance(600_000);
    await until(async () => (await client.getHandler(second.handlerId)).status !== "running");
    expect(await client.getHandler(second.handlerId)).toMatchObject({ status: "failed" });
  });

  // Issue 14: a limited start commits its queued record before it returns; a failure after that
  // commit (its outcome unknown to the server) must still name the handler the client may retry.
  it.each([
    ["run-nowait", "/workflows/held/run-nowait"],
    ["run", "/workflows/held/run"],
  ])(
    "a %s whose queued record was written but whose commit failed answers 5xx naming the handler",
    async (_, path) => {
      const faulty = new FaultyStore(new MemoryStore());
      const server = new WorkflowServer({ store: faulty, token: "" });
      server.addWorkflow("held", held, {
        concurrency: { limit: 1, key: (d: { tenant: string }) => d.tenant },
      });
      servers.push(server);
      await server.start();
      // The record lands, the caller is told the commit failed (a connection lost after COMMIT).
      faulty.plan({ at: { commit: [faulty.calls.commit + 1] }, timing: "after" });
      const res = await server.fetch(
        new Request(`http://localhost${path}`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ start_event: { tenant: "t1" } }),
        }),
      );
      expect(res.status).toBeGreaterThanOrEqual(500);
      const body = (await res.json()) as Record<string, unknown>;
      expect(faulty.faults.commit).toBe(1);
      const handlerId = body["handler_id"];
      expect(handlerId, JSON.stringify(body)).toEqual(expect.any(String));
      // The handler it names is the one that was written.
      const stored = await faulty.getHandler(handlerId as string);
      expect(stored).toMatchObject({ handlerId, workflowName: "held", status: "running" });
      expect((await faulty.listHandlers({ limit: 10 })).handlers).toHaveLength(1);
    },
  );
});
