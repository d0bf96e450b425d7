import {
  defineEvent,
  EventValidationError,
  HumanResponseEvent,
  InputRequiredEvent,
  StartEvent,
  StepFailedError,
  StopEvent,
  Workflow,
} from "eventloom";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { FakeClock, settle } from "./fake-clock.js";

const A = defineEvent("CtxA", z.object({ i: z.number() }));
const B = defineEvent("CtxB", z.object({ i: z.number() }));
const Ask = defineEvent("CtxAsk", z.object({ prompt: z.string() }), { extends: InputRequiredEvent });
const Reply = defineEvent("CtxReply", z.object({ user: z.string(), text: z.string() }), {
  extends: HumanResponseEvent,
});

describe("step context", () => {
  it("store: dotted paths, defaults, copies, and JSON-only values", async () => {
    const wf = new Workflow({ name: "w" }).step("s", { accepts: [StartEvent], emits: [StopEvent] }, (ctx) => {
      expect(ctx.store.get("missing", 42)).toBe(42);
      expect(ctx.store.has("a.b")).toBe(false);
      ctx.store.set("a.b.c", 1);
      ctx.store.set("list", [1, 2]);
      const list = ctx.store.get<number[]>("list");
      list.push(3);
      expect(ctx.store.get("list")).toEqual([1, 2]);
      expect(() => ctx.store.set("f", () => 1)).toThrow(/not a JSON value/);
      expect(() => ctx.store.set("u", undefined)).toThrow(/not a JSON value/);
      expect(() => ctx.store.set("__proto__.x", 1)).toThrow(/Invalid state path/);
      expect(() => ctx.store.set("a..b", 1)).toThrow(/Invalid state path/);
      return StopEvent.create({ result: ctx.store.toJSON() });
    });
    const handler = wf.run();
    await expect(handler).resolves.toEqual({ a: { b: { c: 1 } }, list: [1, 2] });
    expect(handler.context.store.get("a.b.c")).toBe(1);
    expect(handler.context.toJSON().store).toEqual({ a: { b: { c: 1 } }, list: [1, 2] });
  });

  it("a typed state starts from the schema's defaults and rejects values that do not fit", async () => {
    const wf = new Workflow({
      name: "w",
      state: z.object({ count: z.number().default(0), tags: z.array(z.string()).default([]) }),
    }).step("s", { accepts: [StartEvent], emits: [StopEvent] }, (ctx) => {
      const count: number = ctx.store.get("count");
      ctx.store.set("count", count + 1);
      expect(() => ctx.store.set("count", "x" as never)).toThrow(EventValidationError);
      return StopEvent.create({ result: ctx.store.toJSON() });
    });
    await expect(wf.run()).resolves.toEqual({ count: 1, tags: [] });
  });

  it("collectEvents waits for every listed event, with multiplicity, and returns them in the listed order", async () => {
    const wf = new Workflow({ name: "w" })
      .step("fan", { accepts: [StartEvent], emits: [A, B] }, (ctx) => {
        ctx.sendEvent(B.create({ i: 1 }));
        ctx.sendEvent(A.create({ i: 2 }));
        ctx.sendEvent(A.create({ i: 3 }));
      })
      .step("join", { accepts: [A, B], emits: [StopEvent] }, (ctx, ev) => {
        const got = ctx.collectEvents(ev, [A, B, A]);
        if (!got) return null;
        return StopEvent.create({ result: got.map((e) => `${e.type}${e.data.i}`) });
      });
    await expect(wf.run()).resolves.toEqual(["CtxA2", "CtxB1", "CtxA3"]);
  });

  it("sendEvent can target one step, and must be declared in emits", async () => {
    const hits: string[] = [];
    const wf = new Workflow({ name: "w" })
      .step("start", { accepts: [StartEvent], emits: [A] }, (ctx) => {
        ctx.sendEvent(A.create({ i: 1 }), { step: "second" });
      })
      .step("first", { accepts: [A], emits: [StopEvent] }, () => {
        hits.push("first");
      })
      .step("second", { accepts: [A], emits: [StopEvent] }, () => {
        hits.push("second");
        return StopEvent.create({ result: hits });
      });
    await expect(wf.run()).resolves.toEqual(["second"]);

    const bad = new Workflow({ name: "w" }).step(
      "s",
      { accepts: [StartEvent], emits: [StopEvent] },
      (ctx) => {
        ctx.sendEvent(A.create({ i: 1 }));
      },
    );
    await expect(bad.run()).rejects.toThrow(/sent CtxA, which it does not declare in emits/);
  });

  it("waitForEvent publishes the waiter event, honours requirements and re-runs the step with the answer", async () => {
    let runs = 0;
    const wf = new Workflow({ name: "w", timeout: null }).step(
      "ask",
      { accepts: [StartEvent], emits: [StopEvent], waitsFor: [Reply] },
      async (ctx) => {
        runs++;
        const reply = await ctx.waitForEvent(Reply, {
          waiterEvent: Ask.create({ prompt: "who?" }),
          requirements: { user: "ada" },
        });
        return StopEvent.create({ result: reply.data.text });
      },
    );
    const handler = wf.run();
    for await (const ev of handler.stream()) {
      if (Ask.is(ev)) {
        handler.sendEvent(Reply.create({ user: "bob", text: "not me" }));
        handler.sendEvent(Reply.create({ user: "ada", text: "me" }));
      }
    }
    await expect(handler).resolves.toBe("me");
    expect(runs).toBe(2);
  });

  it("waitForEvent takes an answer that arrived before anyone waited", async () => {
    const wf = new Workflow({ name: "w", timeout: null }).step(
      "ask",
      { accepts: [StartEvent], emits: [StopEvent], waitsFor: [Reply] },
      async (ctx) => {
        await settle();
        const reply = await ctx.waitForEvent(Reply);
        return StopEvent.create({ result: reply.data.text });
      },
    );
    const handler = wf.run();
    handler.sendEvent(Reply.create({ user: "x", text: "early" }));
    await expect(handler).resolves.toBe("early");
  });

  it("waitForEvent fails the step when its timeout passes", async () => {
    const clock = new FakeClock();
    const wf = new Workflow({ name: "w", timeout: null }).step(
      "ask",
      { accepts: [StartEvent], emits: [StopEvent], waitsFor: [Reply] },
      async (ctx) => {
        await ctx.waitForEvent(Reply, { timeout: 5 });
        return StopEvent.create({});
      },
    );
    const handler = wf.run(undefined, { clock });
    const result = handler.then(
      () => null,
      (e: unknown) => e,
    );
    await clock.advance(4_999);
    expect(handler.state.status).toBe("running");
    await clock.advance(1);
    const error = await result;
    expect(error).toBeInstanceOf(StepFailedError);
    expect((error as Error).message).toMatch(/No CtxReply arrived within 5s/);
  });
});
