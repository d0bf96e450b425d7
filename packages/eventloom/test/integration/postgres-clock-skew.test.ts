// Issue 21, item 8: leases are measured by the database's clock, never by a process's own. A process
// whose clock runs an hour ahead neither takes over a handler another process holds (through its
// takeover passes) nor runs one an event was sent to through it: the event goes to the owner.
import { randomBytes } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { defineEvent, StartEvent, StopEvent, Workflow } from "eventloom";
import { PostgresStore } from "eventloom/postgres";
import { afterEach, expect, it } from "vitest";
import { z } from "zod";
import type { Clock } from "../../src/core/clock.js";
import { callJson, makeServer } from "../server/helpers.js";
import { useFreshDatabase } from "../support/fresh-database.js";
import { until } from "../support/until.js";

const db = useFreshDatabase("workflows_pgfence_skew");
const servers: ReturnType<typeof makeServer>[] = [];
afterEach(async () => {
  await Promise.allSettled(servers.splice(0).map((s) => s.close()));
});

const Tick = defineEvent("SkewTick", z.object({ i: z.number().int() }));

/** Ticks of 20 ms; each tick's process is recorded. */
function ticker(by: string, ticks: string[]) {
  return new Workflow({ name: "ticker", timeout: null })
    .step("begin", { accepts: [StartEvent], emits: [Tick] }, async () => Tick.create({ i: 0 }))
    .step("tick", { accepts: [Tick], emits: [Tick, StopEvent] }, async (ctx, ev) => {
      ticks.push(by);
      await sleep(20, undefined, { signal: ctx.signal }).catch(() => undefined);
      return ev.data.i < 100_000 ? Tick.create({ i: ev.data.i + 1 }) : StopEvent.create({ result: "done" });
    });
}

it("a process whose clock runs an hour ahead takes over nothing another process holds", async () => {
  const schema = `skew_${randomBytes(4).toString("hex")}`;
  const ahead: Clock = {
    now: () => Date.now() + 3_600_000,
    setTimeout: (fn, ms) => setTimeout(fn, ms),
    clearTimeout: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
  };
  const ticks: string[] = [];
  const passes = { count: 0 };
  const skewedStore = new PostgresStore(db.url, { schema });
  // B's takeover passes, counted: the test waits for several of them.
  const counted = new Proxy(skewedStore, {
    get: (target, key) => {
      const value = Reflect.get(target, key, target) as unknown;
      if (key === "listExpiredRunning") {
        return (...args: [number, number?]) => {
          passes.count++;
          return target.listExpiredRunning(...args);
        };
      }
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  const a = makeServer({ store: new PostgresStore(db.url, { schema }), leaseTtlMs: 1500 });
  const b = makeServer({ store: counted, clock: ahead, leaseTtlMs: 1500 });
  a.addWorkflow("ticker", ticker("A", ticks));
  b.addWorkflow("ticker", ticker("B", ticks));
  servers.push(a, b);
  await callJson(b, "GET", "/health");

  const { body } = await callJson<{ handler_id: string }>(a, "POST", "/workflows/ticker/run-nowait", {});
  const waiting = await callJson<{ handler_id: string }>(a, "POST", "/workflows/waiting/run-nowait", {});
  await until(() => ticks.length >= 3, { what: "A ticking" });
  const ping = { event: { type: "Ping", value: { n: 1 } } };
  expect((await callJson(b, "POST", `/events/${waiting.body.handler_id}`, ping)).status).toBe(200);
  const start = passes.count;
  await until(() => passes.count >= start + 4, { what: "B's takeover passes", timeoutMs: 60_000 });

  expect(b.liveRunCount).toBe(0);
  expect(ticks.filter((by) => by === "B")).toEqual([]);
  expect(a.liveRunCount).toBe(2);
  // The answer reached the owner, which took it in (its commit deleted the inbox item).
  const id = waiting.body.handler_id;
  await until(async () => (await skewedStore.readInbox(id)).length === 0, { what: "A to take the answer" });
  expect((await callJson(a, "GET", `/handlers/${body.handler_id}`)).body).toMatchObject({
    status: "running",
  });
});
