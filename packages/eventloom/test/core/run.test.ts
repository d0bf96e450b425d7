import {
  defineEvent,
  HumanResponseEvent,
  InputRequiredEvent,
  RunEndedError,
  StartEvent,
  StepFailedError,
  StepRejectsEventError,
  StopEvent,
  UnknownStepError,
  Workflow,
  WorkflowCancelledError,
  WorkflowTimeoutError,
} from "eventloom";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { FakeClock, settle } from "./fake-clock.js";

const Num = defineEvent("Num", z.object({ n: z.number() }));
const Half = defineEvent("Half", z.object({ n: z.number() }));
const Out = defineEvent("OutEv", z.object({ total: z.number() }), { extends: StopEvent });
const Ask = defineEvent("AskEv", z.object({ prompt: z.string() }), { extends: InputRequiredEvent });
const Reply = defineEvent("ReplyEv", z.object({ text: z.string() }), { extends: HumanResponseEvent });
const Typed = defineEvent("TypedStart", z.object({ a: z.number(), b: z.number() }), { extends: StartEvent });

describe("running a workflow in process", () => {
  it("resolves with a plain StopEvent's result", async () => {
    const wf = new Workflow({ name: "w" }).step(
      "s",
      { accepts: [StartEvent], emits: [StopEvent] },
      async () => StopEvent.create({ result: { ok: true } }),
    );
    await expect(wf.run()).resolves.toEqual({ ok: true });
  });

  it("resolves with a custom stop event's data and validates a typed start event", async () => {
    const wf = new Workflow({ name: "w" }).step("s", { accepts: [Typed], emits: [Out] }, (_ctx, ev) =>
      Out.create({ total: ev.data.a + ev.data.b }),
    );
    const result: { total: number } = await wf.run({ a: 2, b: 3 });
    expect(result).toEqual({ total: 5 });
    expect(() => wf.run({ a: "x" } as never)).toThrow(/Invalid TypedStart/);
    await expect(wf.run(StartEvent.create({ a: 1, b: 1 }))).resolves.toEqual({ total: 2 });
    expect(() => wf.run(Num.create({ n: 1 }))).toThrow(/not this workflow's start event/);
  });

  it("routes returned events, arrays of events and nothing", async () => {
    const wf = new Workflow({ name: "w" })
      .step("fan", { accepts: [StartEvent], emits: [Num] }, () => [1, 2, 3].map((n) => Num.create({ n })))
      .step("sum", { accepts: [Num], emits: [Out] }, (ctx, ev) => {
        const total = ctx.store.get("total", 0) + ev.data.n;
        ctx.store.set("total", total);
        ctx.store.set("seen", ctx.store.get("seen", 0) + 1);
        return ctx.store.get("seen") === 3 ? Out.create({ total }) : undefined;
      });
    await expect(wf.run()).resolves.toEqual({ total: 6 });
  });

  it("routes by exact definition, not by ancestry", async () => {
    const seen: string[] = [];
    const wf = new Workflow({ name: "w" })
      .step("s", { accepts: [StartEvent], emits: [Num, Half] }, () => [
        Half.create({ n: 1 }),
        Num.create({ n: 2 }),
      ])
      .step("num", { accepts: [Num], emits: [StopEvent] }, async () => {
        await settle();
        seen.push("num");
        return StopEvent.create({ result: seen });
      })
      .step("half", { accepts: [Half], emits: [] }, () => {
        seen.push("half");
      });
    await expect(wf.run()).resolves.toEqual(["half", "num"]);
  });

  it("publishes written events and the stop event on the stream, internal ones on request", async () => {
    const wf = new Workflow({ name: "w" }).step("s", { accepts: [StartEvent], emits: [StopEvent] }, (ctx) => {
      ctx.writeEventToStream(Num.create({ n: 1 }));
      return StopEvent.create({ result: 1 });
    });
    const handler = wf.run();
    const plain = [];
    const all = [];
    const [a, b] = [handler.stream(), handler.stream({ includeInternal: true })];
    for await (const ev of a) plain.push(ev.type);
    for await (const ev of b) all.push(`${ev.sequence}:${ev.type}`);
    expect(plain).toEqual(["Num", "StopEvent"]);
    expect(all).toEqual(["0:StepStateChanged", "1:Num", "2:StepStateChanged", "3:StopEvent"]);
  });

  it("a failing step rejects the run with an error naming the step and keeping the cause", async () => {
    const boom = new Error("boom");
    const wf = new Workflow({ name: "w" }).step(
      "explode",
      { accepts: [StartEvent], emits: [StopEvent] },
      () => {
        throw boom;
      },
    );
    const handler = wf.run();
    const events = [];
    for await (const ev of handler.stream()) events.push(ev);
    const error = await handler.then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(StepFailedError);
    expect((error as StepFailedError).stepName).toBe("explode");
    expect((error as StepFailedError).cause).toBe(boom);
    expect(events.at(-1)).toMatchObject({
      type: "WorkflowFailedEvent",
      data: { step_name: "explode", error: { name: "Error", message: "boom" }, attempts: 1 },
    });
    expect(handler.outcome).toMatchObject({ status: "failed", error: "boom" });
  });

  it("a step that returns an undeclared event fails without retrying", async () => {
    let attempts = 0;
    const wf = new Workflow({ name: "w" }).step(
      "s",
      { accepts: [StartEvent], emits: [StopEvent], retry: { maxAttempts: 5, delay: 0 } },
      () => {
        attempts++;
        return Num.create({ n: 1 }) as never;
      },
    );
    await expect(wf.run()).rejects.toThrow(/returned Num, which it does not declare in emits/);
    expect(attempts).toBe(1);
  });

  it("times out with a timeout error and a WorkflowTimedOutEvent naming the active steps", async () => {
    const clock = new FakeClock();
    const wf = new Workflow({ name: "w", timeout: 10 }).step(
      "slow",
      { accepts: [StartEvent], emits: [StopEvent] },
      (ctx) =>
        new Promise((_, reject) => ctx.signal.addEventListener("abort", () => reject(ctx.signal.reason))),
    );
    const handler = wf.run(undefined, { clock });
    const rejected = handler.then(
      () => null,
      (e: unknown) => e,
    );
    await clock.advance(10_000);
    const error = await rejected;
    expect(error).toBeInstanceOf(WorkflowTimeoutError);
    expect((error as Error).message).toBe("Workflow timed out after 10s");
    expect(handler.outcome?.stopEvent).toMatchObject({
      type: "WorkflowTimedOutEvent",
      data: { active_steps: ["slow"] },
    });
    expect(handler.outcome?.error).toBe("Workflow timed out after 10s");
  });

  it("cancel aborts the steps' signal, publishes WorkflowCancelledEvent and rejects", async () => {
    let aborted = false;
    const wf = new Workflow({ name: "w" }).step("s", { accepts: [StartEvent], emits: [StopEvent] }, (ctx) => {
      ctx.signal.addEventListener("abort", () => {
        aborted = true;
      });
      return new Promise(() => {});
    });
    const handler = wf.run();
    await settle();
    await handler.cancel();
    await expect(handler).rejects.toBeInstanceOf(WorkflowCancelledError);
    expect(aborted).toBe(true);
    expect(handler.outcome?.stopEvent.type).toBe("WorkflowCancelledEvent");
    await expect(handler.cancel()).rejects.toBeInstanceOf(RunEndedError);
    expect(() => handler.sendEvent(Reply.create({ text: "x" }))).toThrow(RunEndedError);
  });

  it("numWorkers bounds how many events a step works on at once, the rest queue", async () => {
    let running = 0;
    let peak = 0;
    const wf = new Workflow({ name: "w" })
      .step("fan", { accepts: [StartEvent], emits: [Num] }, () =>
        Array.from({ length: 10 }, (_, n) => Num.create({ n })),
      )
      .step("work", { accepts: [Num], emits: [Half], numWorkers: 3 }, async (_ctx, ev) => {
        running++;
        peak = Math.max(peak, running);
        await settle();
        running--;
        return Half.create({ n: ev.data.n });
      })
      .step("join", { accepts: [Half], emits: [Out] }, (ctx, ev) => {
        const got = ctx.collectEvents(
          ev,
          Array.from({ length: 10 }, () => Half),
        );
        return got ? Out.create({ total: got.reduce((s, e) => s + e.data.n, 0) }) : null;
      });
    await expect(wf.run()).resolves.toEqual({ total: 45 });
    expect(peak).toBe(3);
  });

  it("sendEvent to a step checks the step exists and takes the event", async () => {
    const wf = new Workflow({ name: "w", timeout: null })
      .step("ask", { accepts: [StartEvent], emits: [Ask] }, () => Ask.create({ prompt: "?" }))
      .step("answer", { accepts: [Reply], emits: [StopEvent] }, (_ctx, ev) =>
        StopEvent.create({ result: ev.data.text }),
      );
    const handler = wf.run();
    await settle();
    expect(() => handler.sendEvent(Reply.create({ text: "x" }), { step: "nope" })).toThrow(UnknownStepError);
    expect(() => handler.sendEvent(Reply.create({ text: "x" }), { step: "ask" })).toThrow(
      StepRejectsEventError,
    );
    handler.sendEvent(Reply.create({ text: "hi" }), { step: "answer" });
    await expect(handler).resolves.toBe("hi");
  });

  it("publishes input-required events automatically and signals idleness", async () => {
    const wf = new Workflow({ name: "w", timeout: null })
      .step("ask", { accepts: [StartEvent], emits: [Ask] }, () => Ask.create({ prompt: "name?" }))
      .step("answer", { accepts: [Reply], emits: [StopEvent] }, (_ctx, ev) =>
        StopEvent.create({ result: ev.data.text }),
      );
    const handler = wf.run();
    const types: string[] = [];
    for await (const ev of handler.stream({ includeInternal: true })) {
      types.push(ev.type);
      if (ev.type === "WorkflowIdleEvent") {
        expect(handler.state.idle).toBe(true);
        handler.sendEvent(Reply.create({ text: "Ada" }));
      }
    }
    expect(types).toEqual([
      "StepStateChanged",
      "StepStateChanged",
      "AskEv",
      "WorkflowIdleEvent",
      "EventReceived", // the Reply sent from outside, kept in the log
      "StepStateChanged",
      "StepStateChanged",
      "StopEvent",
    ]);
  });
});
