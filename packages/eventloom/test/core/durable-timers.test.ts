// ctx.sendEvent(ev, { delay | at }) (round 2 §7): a durable timer, part of the run's state, delivered
// once at its time, even when the run is suspended and resumed from its JSON in between.
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { defineEvent, StartEvent, StopEvent, Workflow, WorkflowError } from "../../src/core/index.js";
import type { RunState } from "../../src/core/run-state.js";
import { earliestTimer } from "../../src/core/run-timers.js";
import { FakeClock, settle } from "./fake-clock.js";

const Remind = defineEvent("Remind", z.object({ n: z.number() }));
const Wake = defineEvent("Wake", z.object({}));

/** Sends Remind after `delay` seconds (or at `at`); Remind ends the run with the time it came. */
function reminder(clock: FakeClock, options: { delay?: number; at?: string }) {
  return new Workflow({ name: "Reminder", timeout: null })
    .step("plan", { accepts: [StartEvent], emits: [Remind] }, async (ctx) => {
      ctx.sendEvent(Remind.create({ n: 1 }), options);
    })
    .step("remind", { accepts: [Remind], emits: [StopEvent] }, async (_ctx, ev) =>
      StopEvent.create({ result: { n: ev.data.n, at: clock.now() } }),
    );
}

describe("durable timers", () => {
  it("delivers a delayed event at its time, not before, and the run is idle meanwhile", async () => {
    const clock = new FakeClock(1_000_000);
    const handler = reminder(clock, { delay: 90 }).run(StartEvent.create({}), { clock });
    await settle();
    const state = handler.context.toJSON();
    expect(state.idle).toBe(true);
    expect(earliestTimer(state)).toBe(1_090_000);
    await clock.advance(89_999);
    expect(handler.context.toJSON().status).toBe("running");
    await clock.advance(1);
    await expect(handler).resolves.toEqual({ n: 1, at: 1_090_000 });
  });

  it("takes an ISO time as `at`", async () => {
    const clock = new FakeClock(Date.parse("2030-01-01T00:00:00.000Z"));
    const handler = reminder(clock, { at: "2030-01-01T00:00:05.000Z" }).run(StartEvent.create({}), { clock });
    await clock.advance(5_000);
    await expect(handler).resolves.toEqual({ n: 1, at: Date.parse("2030-01-01T00:00:05.000Z") });
  });

  it("fails the step on a negative delay or an unreadable time", async () => {
    for (const options of [{ delay: -1 }, { at: "tomorrow-ish" }]) {
      const clock = new FakeClock();
      const error = await reminder(clock, options)
        .run(StartEvent.create({}), { clock })
        .then(
          () => null,
          (e: unknown) => e,
        );
      expect(error).toBeInstanceOf(WorkflowError);
      expect(String((error as Error).message)).toMatch(/delay must be seconds|at must be a Date/);
    }
  });

  it("a sleep (send a delayed Wake, wait for it) sets its timer once though the step runs twice", async () => {
    const clock = new FakeClock(0);
    let runs = 0;
    const wf = new Workflow({ name: "Sleeper", timeout: null }).step(
      "sleep",
      { accepts: [StartEvent], emits: [Wake, StopEvent], waitsFor: [Wake] },
      async (ctx) => {
        runs++;
        ctx.sendEvent(Wake.create({}), { delay: 10 });
        await ctx.waitForEvent(Wake);
        return StopEvent.create({ result: clock.now() });
      },
    );
    const handler = wf.run(StartEvent.create({}), { clock });
    await clock.advance(10_000);
    await expect(handler).resolves.toBe(10_000);
    expect(runs).toBe(2);
    expect(handler.context.toJSON().delayed).toEqual({});
  });

  it("a run suspended while it waits is resumed from its JSON and gets the event once, at its time", async () => {
    const clock = new FakeClock(0);
    const delivered: number[] = [];
    const wf = new Workflow({ name: "Twice", timeout: null })
      .step("plan", { accepts: [StartEvent], emits: [Remind] }, async (ctx) => {
        ctx.sendEvent(Remind.create({ n: 1 }), { delay: 30 });
        ctx.sendEvent(Remind.create({ n: 2 }), { delay: 60 });
      })
      .step("remind", { accepts: [Remind], emits: [StopEvent] }, async (_ctx, ev) => {
        delivered.push(ev.data.n);
        return ev.data.n === 2 ? StopEvent.create({ result: delivered }) : undefined;
      });
    const first = wf.run(StartEvent.create({}), { clock });
    await clock.advance(30_000);
    expect(delivered).toEqual([1]);
    const saved = JSON.parse(JSON.stringify(first.context.toJSON())) as RunState;
    first.suspend();
    await clock.advance(10_000);
    const resumed = wf.run(undefined, { clock, context: saved });
    await clock.advance(19_999);
    expect(delivered).toEqual([1]);
    await clock.advance(1);
    await expect(resumed).resolves.toEqual([1, 2]);
  });

  it("a timer already due when the run resumes fires at once", async () => {
    const clock = new FakeClock(0);
    const first = reminder(clock, { delay: 5 }).run(StartEvent.create({}), { clock });
    await settle();
    const saved = first.context.toJSON();
    first.suspend();
    await clock.advance(60_000);
    const resumed = reminder(clock, { delay: 5 }).run(undefined, { clock, context: saved });
    await clock.advance(0);
    await expect(resumed).resolves.toEqual({ n: 1, at: 60_000 });
  });
});
