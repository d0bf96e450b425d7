// The takeover rules on a fake clock: every interval, running handlers nobody holds are resumed, but
// idle ones stay in the store until their timer is due. The store is a real Postgres.
import { randomBytes } from "node:crypto";
import { afterEach, expect, it } from "vitest";
import { z } from "zod";
import { defineEvent, StartEvent, StopEvent, Workflow } from "../../../src/core/index.js";
import { TakeoverLoop } from "../../../src/server/cluster/takeover.js";
import { silentLogger } from "../../../src/server/logger.js";
import { PostgresStore } from "../../../src/stores/postgres/index.js";
import type { HandlerRecord } from "../../../src/stores/store.js";
import { FakeClock } from "../../core/fake-clock.js";
import { useFreshDatabase } from "../../support/fresh-database.js";
import { until } from "../helpers.js";

const db = useFreshDatabase("workflows_takeover_clock");
const stores: PostgresStore[] = [];
const loops: TakeoverLoop[] = [];
afterEach(async () => {
  await Promise.allSettled(loops.splice(0).map((l) => l.stop()));
  await Promise.allSettled(stores.splice(0).map((s) => s.close()));
});

const Answer = defineEvent("TakeoverAnswer", z.object({ text: z.string() }));
const WAIT_S = 3600;
const patient = new Workflow({ name: "Patient", timeout: null }).step(
  "ask",
  { accepts: [StartEvent], emits: [StopEvent], waitsFor: [Answer] },
  async (ctx) =>
    StopEvent.create({ result: (await ctx.waitForEvent(Answer, { timeout: WAIT_S })).data.text }),
);
const busy = new Workflow({ name: "Busy", timeout: null }).step(
  "work",
  { accepts: [StartEvent], emits: [StopEvent] },
  () => new Promise<never>(() => {}),
);

/** A running handler's record and state, as a process that died would have left them. */
async function leftBehind(store: PostgresStore, clock: FakeClock, id: string, workflow: Workflow) {
  const handler = workflow.run(StartEvent.create({}), { clock });
  await clock.advance(0);
  const state = handler.context.toJSON();
  handler.suspend();
  const at = new Date(clock.now()).toISOString();
  const record: HandlerRecord = {
    handlerId: id,
    workflowName: workflow.name,
    runId: state.runId,
    status: "running",
    result: null,
    error: null,
    startedAt: at,
    updatedAt: at,
    completedAt: null,
  };
  await store.commit({ handlers: [record], states: [{ handlerId: id, json: JSON.stringify(state) }] });
  return state;
}

it("resumes orphaned busy handlers each interval, and idle ones only once their timer is due", async () => {
  const clock = new FakeClock(Date.now());
  const store = new PostgresStore(db.url, { schema: `tk_${randomBytes(4).toString("hex")}` });
  stores.push(store);
  await store.init();
  const idleState = await leftBehind(store, clock, "idle", patient);
  await leftBehind(store, clock, "busy", busy);
  expect(idleState.idle).toBe(true);

  let passes = 0;
  const counted = new Proxy(store, {
    get: (target, key) => {
      const value = Reflect.get(target, key, target) as unknown;
      if (key === "listExpiredRunning") passes++;
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  const resumed: string[] = [];
  const loop = new TakeoverLoop({
    store: counted,
    intervalMs: 5_000,
    logger: silentLogger,
    clock,
    isLive: (id) => resumed.includes(id),
    resume: async (id) => resumed.push(id),
  });
  loops.push(loop);
  loop.start();
  await clock.advance(4_999);
  expect(passes).toBe(0);
  await clock.advance(1);
  expect(passes).toBe(1);
  await until(() => resumed.includes("busy"));
  await loop.pass();
  expect(resumed).toEqual(["busy"]);

  // A pass nearly an hour later on the clock: the waiter's deadline is not due, the idle one stays.
  const before = passes;
  await clock.advance(WAIT_S * 1000 - 20_000);
  // At least one pass ran: the next one is armed only once a pass's query is back (real I/O), so
  // how many fit into one advance depends on the machine, not on the rule under test.
  expect(passes).toBeGreaterThan(before);
  await loop.pass();
  expect(resumed).toEqual(["busy"]);

  // Once it is due, the next pass takes the idle one too.
  await clock.advance(20_000);
  await until(() => resumed.includes("idle"));
});
