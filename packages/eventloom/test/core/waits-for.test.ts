// `waitsFor`: a step declares the events it awaits with `ctx.waitForEvent`.

import {
  defineEvent,
  HumanResponseEvent,
  InputRequiredEvent,
  StartEvent,
  StepFailedError,
  StopEvent,
  UndeclaredEventError,
  Workflow,
  WorkflowValidationError,
} from "eventloom";
import { describe, expect, it } from "vitest";
import { z } from "zod";

const Ask = defineEvent("WfAsk", z.object({ question: z.string() }), { extends: InputRequiredEvent });
// A plain event, not a HumanResponseEvent: only `waitsFor` (or additionalEvents) lets it in from outside.
const Nudge = defineEvent("WfNudge", z.object({ text: z.string() }));
const Answer = defineEvent("WfAnswer", z.object({ text: z.string() }), { extends: HumanResponseEvent });
const Spare = defineEvent("WfSpare", z.object({}), { extends: HumanResponseEvent });

const waiting = (waitsFor: (typeof Nudge)[] | undefined) =>
  new Workflow({ name: "nudged", timeout: null }).step(
    "wait",
    { accepts: [StartEvent], emits: [StopEvent], ...(waitsFor ? { waitsFor } : {}) },
    async (ctx) => {
      const nudge = await ctx.waitForEvent(Nudge, { waiterEvent: Ask.create({ question: "nudge me" }) });
      return StopEvent.create({ result: nudge.data.text });
    },
  );

async function answered(handler: ReturnType<ReturnType<typeof waiting>["run"]>): Promise<unknown> {
  for await (const ev of handler.stream()) {
    if (Ask.is(ev)) handler.sendEvent(Nudge.create({ text: "go" }));
  }
  return handler;
}

describe("waitsFor", () => {
  it("lets a step wait for the events it declares, and lists them among the workflow's events", async () => {
    const wf = waiting([Nudge]);
    expect(wf.events.map((d) => d.type)).toEqual(["StartEvent", "StopEvent", "WfNudge"]);
    expect(wf.outsideEvents().map((d) => d.type)).toEqual(["StartEvent", "WfNudge"]);
    expect(wf.getStep("wait")?.waitsFor).toEqual([Nudge]);
    await expect(answered(wf.run())).resolves.toBe("go");
  });

  it("fails a step that waits for an event declared nowhere, saying how to declare it", async () => {
    const handler = waiting(undefined).run();
    const error = await handler.then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(StepFailedError);
    const cause = (error as StepFailedError).cause;
    expect(cause).toBeInstanceOf(UndeclaredEventError);
    expect((cause as Error).message).toBe(
      'Step "wait" waits for WfNudge, which the workflow does not declare: declare it on the step: waitsFor: [WfNudge]',
    );
    expect(handler.outcome).toMatchObject({ status: "failed", failedStep: "wait" });
    // a programming error: the step is not retried
    expect((error as StepFailedError).attempts).toBe(1);
  });

  it("still lets an undeclared wait take an event given as additionalEvents, or one another step declares", async () => {
    await expect(answered(waiting(undefined).run({}, { additionalEvents: [Nudge] }))).resolves.toBe("go");
    const declaredElsewhere = new Workflow({ name: "elsewhere", timeout: null })
      .step("start", { accepts: [StartEvent], emits: [Ask] }, () => Ask.create({ question: "nudge me" }))
      .step("wait", { accepts: [Answer], emits: [StopEvent] }, async (ctx, ev) => {
        // Nudge is not in this step's waitsFor, but another step of the workflow declares it
        const nudge = await ctx.waitForEvent(Nudge);
        return StopEvent.create({ result: `${ev.data.text}+${nudge.data.text}` });
      })
      .step("spare", { accepts: [Spare], emits: [StopEvent], waitsFor: [Nudge] }, () => undefined);
    const handler = declaredElsewhere.run();
    for await (const ev of handler.stream()) {
      if (Ask.is(ev)) {
        handler.sendEvent(Nudge.create({ text: "early" }));
        handler.sendEvent(Answer.create({ text: "answer" }));
      }
    }
    await expect(handler).resolves.toBe("answer+early");
  });

  it("counts awaited events as coming from outside, and as taken when a step emits them", () => {
    const accepted = () =>
      new Workflow({ name: "w" })
        .step("start", { accepts: [StartEvent], emits: [StopEvent] }, () => StopEvent.create({}))
        .step("log", { accepts: [Nudge], emits: [StopEvent] }, () => StopEvent.create({}));
    expect(() => accepted().validate()).toThrow(/accepts WfNudge, which no step emits/);
    const awaitedToo = accepted().step(
      "wait",
      { accepts: [StartEvent], emits: [StopEvent], waitsFor: [Nudge] },
      () => StopEvent.create({}),
    );
    expect(awaitedToo.validate()).toBe(StartEvent);

    const emittedForAWaiter = new Workflow({ name: "w" })
      .step("poke", { accepts: [StartEvent], emits: [Nudge] }, () => Nudge.create({ text: "x" }))
      .step("wait", { accepts: [StartEvent], emits: [StopEvent], waitsFor: [Nudge] }, () =>
        StopEvent.create({}),
      );
    expect(emittedForAWaiter.validate()).toBe(StartEvent);
  });

  it("refuses to wait for a stop or start event, or for something that is not an event", () => {
    const build = (waitsFor: unknown) => () =>
      new Workflow({ name: "w" }).step(
        "s",
        { accepts: [StartEvent], emits: [StopEvent], waitsFor: waitsFor as never },
        () => undefined,
      );
    expect(build([StopEvent])).toThrow(WorkflowValidationError);
    expect(build([StopEvent])).toThrow(/step "s" waits for StopEvent, which no step can wait for/);
    expect(build([StartEvent])).toThrow(/a start event starts a run/);
    expect(build(["WfNudge"])).toThrow(/waitsFor must list events made by defineEvent/);
    expect(build(Nudge)).toThrow(/waitsFor must be an array of events/);
  });
});
