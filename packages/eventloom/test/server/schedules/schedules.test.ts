// Schedules (round 2 §7) on the injected clock: each fire time starts one run, across servers sharing
// a store; a missed fire time is started once at a start; a fire claimed by a process that died
// before starting it is started by the next one.
import { afterEach, describe, expect, it } from "vitest";
import { z } from "zod";
import { WorkflowClient } from "../../../src/client/index.js";
import { defineEvent, HumanResponseEvent, StartEvent, StopEvent, Workflow } from "../../../src/core/index.js";
import { MemoryStore, SqliteStore, type Store, WorkflowServer } from "../../../src/server/index.js";
import { scheduledRunId } from "../../../src/server/schedules/scheduler.js";
import { FakeClock } from "../../core/fake-clock.js";
import { callJson, tempDir, until } from "../helpers.js";

const Tick = defineEvent("Tick", z.object({ label: z.string().default("tick") }), { extends: StartEvent });

const ticker = new Workflow({ name: "ticker", timeout: null }).step(
  "tick",
  { accepts: [Tick], emits: [StopEvent] },
  async (_ctx, ev) => StopEvent.create({ result: ev.data.label }),
);

const T0 = Date.parse("2030-01-01T00:00:00.500Z");
const servers: WorkflowServer[] = [];
const cleanups: (() => void)[] = [];
afterEach(async () => {
  await Promise.allSettled(servers.splice(0).map((s) => s.close()));
  for (const c of cleanups.splice(0)) c();
});

function serverOn(store: Store, clock: FakeClock, cron = "*/10 * * * * *", label = "tick"): WorkflowServer {
  const server = new WorkflowServer({ store, clock, token: "" });
  server.addWorkflow("ticker", ticker, { schedules: [{ cron, id: "every-10s", startEvent: { label } }] });
  servers.push(server);
  return server;
}

/** The ended runs in the store, by the fire time in their handler ids. */
async function ledger(store: Store): Promise<Map<string, string[]>> {
  const page = await store.listHandlers({ limit: 1000 });
  const byFire = new Map<string, string[]>();
  for (const h of page.handlers) {
    expect(h.scheduleId).toBe("every-10s");
    const fire = h.handlerId.slice(h.handlerId.lastIndexOf("-") + 1);
    byFire.set(fire, [...(byFire.get(fire) ?? []), h.status]);
  }
  return byFire;
}

describe("addWorkflow's schedules", () => {
  it.each([
    [{ cron: "* * * *" }, "schedules[0].cron: Expected 5 fields, or 6 with seconds first"],
    [{ cron: "0 0 0 * * * 2030" }, "schedules[0].cron: Expected 5 fields, or 6 with seconds first"],
    [{ cron: "61 * * * *" }, 'schedules[0].cron: "61 * * * *" is not a valid cron expression'],
    [{ cron: "* * * * *", timezone: "Mars/Olympus" }, 'schedules[0].timezone: "Mars/Olympus" is not an IANA'],
    [{ cron: "* * * * *", startEvent: { label: 3 } }, "schedules[0].startEvent: "],
  ])("refuses %j with a clear error", (schedule, message) => {
    const server = new WorkflowServer({ store: new MemoryStore(), token: "" });
    servers.push(server);
    expect(() => server.addWorkflow("ticker", ticker, { schedules: [schedule] })).toThrow(message);
    expect(server.workflowNames).toEqual([]);
  });

  it("refuses two schedules with one id", () => {
    const server = new WorkflowServer({ store: new MemoryStore(), token: "" });
    servers.push(server);
    const schedules = [{ cron: "* * * * *" }, { cron: "* * * * *" }];
    expect(() => server.addWorkflow("ticker", ticker, { schedules })).toThrow(
      'Schedule id "ticker:* * * * *"',
    );
  });
});

describe("schedules on the injected clock", () => {
  it("starts one run per fire time, with schedule_id, and lists its next fire time and last run", async () => {
    const clock = new FakeClock(T0);
    const store = new MemoryStore();
    const server = serverOn(store, clock, "*/10 * * * * *", "hello");
    await server.start();
    // First sight: nothing started for fire times before the schedule existed.
    expect((await store.listHandlers({ limit: 10 })).handlers).toEqual([]);
    let { body } = await callJson<{ schedules: Record<string, unknown>[] }>(server, "GET", "/schedules");
    expect(body.schedules).toEqual([
      {
        schedule_id: "every-10s",
        workflow_name: "ticker",
        cron: "*/10 * * * * *",
        timezone: "UTC",
        next_fire_at: "2030-01-01T00:00:10.000Z",
        last_fire_at: null,
        last_handler_id: null,
      },
    ]);
    for (let i = 0; i < 35; i++) await clock.advance(1_000);
    await until(async () => (await store.listRunning()).length === 0);
    const runs = await ledger(store);
    expect([...runs.keys()].sort()).toEqual(["20300101T000010Z", "20300101T000020Z", "20300101T000030Z"]);
    for (const statuses of runs.values()) expect(statuses).toEqual(["completed"]);
    const last = scheduledRunId("every-10s", Date.parse("2030-01-01T00:00:30Z"));
    const record = await callJson(server, "GET", `/handlers/${last}`);
    expect(record.body).toMatchObject({ schedule_id: "every-10s", status: "completed", result: "hello" });
    ({ body } = await callJson<{ schedules: Record<string, unknown>[] }>(server, "GET", "/schedules"));
    expect(body.schedules[0]).toMatchObject({
      next_fire_at: "2030-01-01T00:00:40.000Z",
      last_fire_at: "2030-01-01T00:00:30.000Z",
      last_handler_id: last,
    });
  });

  it("gives each fire time to one of several servers sharing a store", async () => {
    const clock = new FakeClock(T0);
    const store = new MemoryStore();
    const a = serverOn(store, clock);
    const b = serverOn(store, clock);
    const c = serverOn(store, clock);
    await Promise.all([a.start(), b.start(), c.start()]);
    for (let i = 0; i < 60; i++) await clock.advance(1_000);
    await until(async () => (await store.listRunning()).length === 0);
    const runs = await ledger(store);
    expect(runs.size).toBe(6);
    for (const statuses of runs.values()) expect(statuses).toEqual(["completed"]);
  });

  it("starts a fire time missed while no process ran once, not once per missed tick", async () => {
    const clock = new FakeClock(T0);
    const store = new MemoryStore();
    // The last fire time the store knows of is a day old: 8,640 ticks were missed.
    await store.claimScheduleFire({
      scheduleId: "every-10s",
      fireAt: T0 - 86_400_000,
      handler: null,
      startEvent: null,
    });
    const server = serverOn(store, clock);
    await server.start();
    await until(async () => (await store.listRunning()).length === 0);
    const runs = await ledger(store);
    expect([...runs.entries()]).toEqual([["20300101T000000Z", ["completed"]]]);
    await clock.advance(10_000);
    await until(async () => (await ledger(store)).size === 2);
  });

  it("starts a run whose fire time was claimed by a process that died before starting it", async () => {
    const { dir, remove } = tempDir();
    cleanups.push(remove);
    const clock = new FakeClock(T0);
    const path = `${dir}/runs.db`;
    const first = new SqliteStore(path);
    await first.init();
    const fireAt = Date.parse("2030-01-01T00:00:00Z");
    const handlerId = scheduledRunId("every-10s", fireAt);
    // What a process writes when it claims, before the run's first commit; then it is killed.
    const at = new Date(fireAt).toISOString();
    await first.claimScheduleFire({
      scheduleId: "every-10s",
      fireAt,
      handler: {
        ...{ handlerId, workflowName: "ticker", runId: "r", status: "running", result: null, error: null },
        ...{ startedAt: at, updatedAt: at, completedAt: null, scheduleId: "every-10s" },
      },
      startEvent: JSON.stringify({ type: "Tick", qualifiedName: "Tick", data: { label: "claimed" } }),
    });
    await first.close();
    const store = new SqliteStore(path);
    const server = serverOn(store, clock);
    await server.start();
    await until(async () => (await store.getHandler(handlerId))?.status === "completed");
    expect(await store.getHandler(handlerId)).toMatchObject({ result: "claimed", scheduleId: "every-10s" });
    expect((await store.listHandlers({ limit: 10 })).handlers).toHaveLength(1);
  });

  it("fires in the schedule's time zone", async () => {
    const clock = new FakeClock(Date.parse("2030-01-01T00:00:00Z"));
    const server = new WorkflowServer({ store: new MemoryStore(), clock, token: "" });
    servers.push(server);
    server.addWorkflow("ticker", ticker, {
      schedules: [{ cron: "0 2 * * *", timezone: "America/New_York" }],
    });
    const info = await server.serve({ host: "127.0.0.1", port: 0 });
    const [schedule] = await new WorkflowClient({ baseUrl: info.url }).listSchedules();
    expect(schedule).toEqual({
      scheduleId: "ticker:0 2 * * * America/New_York",
      workflowName: "ticker",
      cron: "0 2 * * *",
      timezone: "America/New_York",
      nextFireAt: "2030-01-01T07:00:00.000Z",
      lastFireAt: null,
      lastHandlerId: null,
    });
  });
});

describe("a schedule of a workflow with a run limit", () => {
  const Go = defineEvent("Go", z.object({}), { extends: HumanResponseEvent });
  /** Each run waits for Go: it holds its place in the limit until then. */
  const held = new Workflow({ name: "held", timeout: null }).step(
    "wait",
    { accepts: [Tick], emits: [StopEvent], waitsFor: [Go] },
    async (ctx, ev) => {
      await ctx.waitForEvent(Go);
      return StopEvent.create({ result: ev.data.label });
    },
  );

  it("queues its runs behind the limit like any start", async () => {
    const clock = new FakeClock(T0);
    const store = new MemoryStore();
    const server = new WorkflowServer({ store, clock, token: "" });
    server.addWorkflow("held", held, {
      schedules: [{ cron: "*/10 * * * * *", id: "every-10s" }],
      concurrency: { limit: 1 },
    });
    servers.push(server);
    await server.start();
    const client = new WorkflowClient({
      baseUrl: "http://localhost",
      fetch: (url, init) => server.fetch(new Request(url, init)),
    });
    for (let i = 0; i < 25; i++) await clock.advance(1_000);
    const first = scheduledRunId("every-10s", Date.parse("2030-01-01T00:00:10Z"));
    const second = scheduledRunId("every-10s", Date.parse("2030-01-01T00:00:20Z"));
    await until(async () => (await store.getHandler(second))?.queued === true);
    expect(await client.getHandler(second)).toMatchObject({
      queued: true,
      queuePosition: 1,
      scheduleId: "every-10s",
    });
    // The first runs (in memory, waiting for Go); the second waits in the queue, in the store only.
    await until(async () => server.liveRunCount === 1 && (await client.getHandler(first)).queued !== true);
    await client.sendEvent(first, { type: "Go", value: {} });
    await until(async () => (await client.getHandler(first)).status === "completed");
    await until(async () => (await store.getHandler(second))?.queued !== true && server.liveRunCount === 1);
    await client.sendEvent(second, { type: "Go", value: {} });
    await until(async () => (await client.getHandler(second)).status === "completed");
    expect(await client.getHandler(second)).toMatchObject({ result: "tick", scheduleId: "every-10s" });
  });
});
