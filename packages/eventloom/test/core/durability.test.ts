import {
  Context,
  defineEvent,
  HumanResponseEvent,
  InputRequiredEvent,
  InvalidContextError,
  type PublishedEvent,
  type RunState,
  StartEvent,
  StopEvent,
  Workflow,
} from "eventloom";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { settle } from "./fake-clock.js";

const Ask = defineEvent("DurAsk", z.object({ prompt: z.string() }), { extends: InputRequiredEvent });
const Reply = defineEvent("DurReply", z.object({ text: z.string() }), { extends: HumanResponseEvent });
const Mid = defineEvent("DurMid", z.object({ n: z.number() }));

// Built twice in the tests: a resumed run must not depend on the instance that started it.
function waitingWorkflow(log: string[]) {
  return new Workflow({ name: "waiting", timeout: null })
    .step("prepare", { accepts: [StartEvent], emits: [Mid] }, (ctx) => {
      log.push("prepare");
      ctx.store.set("prepared", true);
      return Mid.create({ n: 1 });
    })
    .step("ask", { accepts: [Mid], emits: [StopEvent], waitsFor: [Reply] }, async (ctx, ev) => {
      log.push("ask");
      const reply = await ctx.waitForEvent(Reply, { waiterEvent: Ask.create({ prompt: "name?" }) });
      return StopEvent.create({
        result: `${reply.data.text}:${ev.data.n}:${String(ctx.store.get("prepared"))}`,
      });
    });
}

describe("durability of a run's state", () => {
  it("the journal sees every change, with gap-free sequences, and the state is plain JSON", async () => {
    const seen: PublishedEvent[] = [];
    let snapshots = 0;
    const wf = waitingWorkflow([]);
    const handler = wf.run(undefined, {
      journal: {
        changed(engine, published) {
          seen.push(...published);
          snapshots++;
          expect(JSON.parse(JSON.stringify(engine.state))).toEqual(engine.state);
        },
      },
    });
    await settle();
    expect(handler.state.idle).toBe(true);
    expect(seen.map((p) => p.sequence)).toEqual(seen.map((_, i) => i));
    expect(snapshots).toBeGreaterThan(3);
    expect(seen.find((p) => p.type === "DurAsk")?.types).toEqual([
      "workflows.events.Event",
      "workflows.events.InputRequiredEvent",
      "DurAsk",
    ]);
  });

  it("a run suspended in waitForEvent resumes from its JSON in a new workflow instance and finishes", async () => {
    const log1: string[] = [];
    const first = waitingWorkflow(log1).run();
    await settle();
    const json = JSON.stringify(first.context.toJSON());
    first.suspend();
    expect(log1).toEqual(["prepare", "ask"]);

    const log2: string[] = [];
    const wf2 = waitingWorkflow(log2);
    const resumed = wf2.run(undefined, { context: Context.fromJSON(wf2, json) });
    await settle();
    expect(resumed.runId).toBe(first.runId);
    resumed.sendEvent(Reply.create({ text: "Ada" }));
    await expect(resumed).resolves.toBe("Ada:1:true");
    // The finished step does not run again; the waiting step runs again from its start.
    expect(log2).toEqual(["ask"]);
  });

  it("a step in flight when the process stopped runs again; sequences go on without gaps", async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const calls: string[] = [];
    const build = (block: boolean) =>
      new Workflow({ name: "inflight" })
        .step("a", { accepts: [StartEvent], emits: [Mid] }, () => {
          calls.push("a");
          return Mid.create({ n: 2 });
        })
        .step("b", { accepts: [Mid], emits: [StopEvent] }, async (_ctx, ev) => {
          calls.push("b");
          if (block) await gate;
          return StopEvent.create({ result: ev.data.n * 10 });
        });
    const published: number[] = [];
    const first = build(true).run(undefined, {
      journal: { changed: (_e, p) => published.push(...p.map((x) => x.sequence)) },
    });
    await settle();
    const state: RunState = JSON.parse(JSON.stringify(first.state));
    expect(Object.values(state.inFlight).map((i) => i.step)).toEqual(["b"]);
    first.suspend();
    release();

    const resumed = build(false).run(undefined, {
      context: state,
      journal: { changed: (_e, p) => published.push(...p.map((x) => x.sequence)) },
    });
    await expect(resumed).resolves.toBe(20);
    expect(calls).toEqual(["a", "b", "b"]);
    expect(published).toEqual(published.map((_, i) => i));
    await settle();
    expect(first.state.status).toBe("running"); // the suspended copy never ended
  });

  it("the context of an ended run carries its state into a new run whose sequence goes on", async () => {
    const wf = new Workflow({ name: "count" }).step(
      "s",
      { accepts: [StartEvent], emits: [StopEvent] },
      (ctx) => {
        const count = ctx.store.get("count", 0) + 1;
        ctx.store.set("count", count);
        return StopEvent.create({ result: count });
      },
    );
    const first = wf.run();
    await expect(first).resolves.toBe(1);
    const second = wf.run(undefined, { context: first.context.toJSON() });
    await expect(second).resolves.toBe(2);
    expect(second.runId).not.toBe(first.runId);
    expect(second.engine.history?.[0]?.sequence).toBe(first.state.nextSequence);
  });

  it("rejects a malformed context, or one that names steps the workflow does not have", () => {
    const wf = waitingWorkflow([]);
    expect(() => Context.fromJSON(wf, "{not json")).toThrow(InvalidContextError);
    try {
      wf.run(undefined, { context: { version: 1, queues: 3 } });
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(InvalidContextError);
      expect((error as InvalidContextError).issues?.length).toBeGreaterThan(0);
    }
    const state = wf.run().context.toJSON();
    state.queues = { ghost: [] };
    expect(() => wf.run(undefined, { context: state })).toThrow(/unknown step "ghost"/);
    expect(wf.run(undefined, { context: {} }).state.status).toBe("running");
  });
});
