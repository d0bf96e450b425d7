// Step durations come from the engine's own start stamp and the server's clock: with a FakeClock
// they are exact, so each outcome's bucket can be checked.
import { defineEvent, type RunJournal, StartEvent, StopEvent, Workflow } from "eventloom";
import { FakeClock, settle } from "eventloom/testing";
import { describe, expect, test } from "vitest";
import { z } from "zod";
import { ServerMetrics } from "../../../src/server/metrics/index.js";
import { parsePrometheusText, sampleValue } from "../../support/prometheus-text.js";

const Middle = defineEvent("Middle", z.object({}));
const Answer = defineEvent("Answer", z.object({}));

function gate(): { promise: Promise<void>; open: () => void } {
  let open = () => {};
  const promise = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { promise, open };
}

const steps = "eventloom_step_duration_seconds";

describe("step durations", () => {
  test("are timed on the server's clock from the engine's start, by outcome", async () => {
    const clock = new FakeClock();
    const metrics = new ServerMetrics(clock);
    const slow = gate();
    const held = gate();
    const wf = new Workflow({ name: "W", timeout: null })
      .step("slow", { accepts: [StartEvent], emits: [Middle] }, async () => {
        await slow.promise;
        return Middle.create({});
      })
      .step("ask", { accepts: [Middle], emits: [StopEvent] }, async (ctx) => {
        await ctx.waitForEvent(Answer);
        await held.promise;
        return StopEvent.create({});
      });
    const observer = metrics.forRun("w");
    const journal: RunJournal = { changed: (engine, published) => observer.changed(engine.state, published) };
    const handler = wf.run(StartEvent.create({}), { clock, journal, additionalEvents: [Answer] });

    await settle();
    await clock.advance(1500);
    slow.open();
    await settle();
    // "ask" stops in waitForEvent at once; its answer makes it run again, and the run is cancelled
    // while that second execution waits on `held`, 2 s later.
    handler.sendEvent(Answer.create({}));
    await settle();
    await clock.advance(2000);
    await handler.cancel();
    await handler.done.catch(() => undefined);

    const m = parsePrometheusText(metrics.render({ workflows: ["w"], active: new Map(), streamReaders: 0 }));
    const bucket = (step: string, outcome: string, le: string) =>
      sampleValue(m, steps, `${steps}_bucket`, { workflow: "w", step, outcome, le });
    const sum = (step: string, outcome: string) =>
      sampleValue(m, steps, `${steps}_sum`, { workflow: "w", step, outcome });
    expect(sum("slow", "completed")).toBe(1.5);
    expect([bucket("slow", "completed", "1"), bucket("slow", "completed", "2.5")]).toEqual([0, 1]);
    expect(sum("ask", "waiting")).toBe(0);
    expect(bucket("ask", "waiting", "0.005")).toBe(1);
    expect(sum("ask", "interrupted")).toBe(2);
    expect(
      sampleValue(m, "eventloom_runs_ended_total", "eventloom_runs_ended_total", {
        workflow: "w",
        status: "cancelled",
      }),
    ).toBe(1);
    held.open();
  });
});
