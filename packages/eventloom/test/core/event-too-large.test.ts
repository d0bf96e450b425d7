// A step could emit a 10 MB event: it was kept in the run's state, its stream and every cache on its
// way. With `maxEventBytes`, an event larger than it fails the step with EVENT_TOO_LARGE, never
// retried, and goes nowhere.
import {
  defineEvent,
  EventTooLargeError,
  InputRequiredEvent,
  StartEvent,
  StepFailedError,
  StopEvent,
  Workflow,
  type WorkflowEvent,
} from "eventloom";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { jsonLargerThan } from "../../src/core/json-size.js";

const Big = defineEvent("toolarge.Big", z.object({ text: z.string() }));
const Ask = defineEvent("toolarge.Ask", z.object({ text: z.string() }), { extends: InputRequiredEvent });
const Answer = defineEvent("toolarge.Answer", z.object({}));
const LIMIT = 1000;
const text = (bytes: number) => "é".repeat(Math.ceil(bytes / 2)); // 2 bytes each in UTF-8

/** A workflow whose step makes one event of `bytes` in the way `how` says, with a retry policy. */
function workflow(how: "return" | "send" | "stream" | "stop" | "wait", bytes: number, calls: number[]) {
  return new Workflow({ name: "w", timeout: null })
    .step(
      "make",
      {
        accepts: [StartEvent],
        emits: [Big, StopEvent, Ask],
        waitsFor: [Answer],
        retry: { maxAttempts: 3, delay: 0.001 },
      },
      async (ctx) => {
        calls.push(ctx.attempt);
        const big = Big.create({ text: text(bytes) });
        if (how === "return") return big;
        if (how === "stop") return StopEvent.create({ result: text(bytes) });
        if (how === "send") ctx.sendEvent(big);
        if (how === "stream") ctx.writeEventToStream(big);
        if (how === "wait")
          await ctx.waitForEvent(Answer, { waiterEvent: Ask.create({ text: text(bytes) }) });
        return StopEvent.create({ result: "small" });
      },
    )
    .step("take", { accepts: [Big], emits: [StopEvent] }, () => StopEvent.create({ result: "taken" }));
}

async function outcome(wf: ReturnType<typeof workflow>) {
  const handler = wf.run(undefined, { maxEventBytes: LIMIT });
  const streamed: WorkflowEvent[] = [];
  const error = await handler.then(
    () => null,
    (e: unknown) => e,
  );
  for (const e of handler.engine.history ?? [])
    streamed.push({ type: e.type, qualifiedName: e.qualifiedName, data: e.value });
  return { error, streamed, state: handler.state };
}

describe("maxEventBytes", () => {
  for (const how of ["return", "send", "stream", "stop", "wait"] as const) {
    it(`fails the step with EVENT_TOO_LARGE, without retrying it, for an event it makes by ${how}`, async () => {
      const calls: number[] = [];
      const { error, streamed, state } = await outcome(workflow(how, LIMIT + 10, calls));
      expect(error).toBeInstanceOf(StepFailedError);
      const cause = (error as StepFailedError).cause;
      expect(cause).toBeInstanceOf(EventTooLargeError);
      expect(cause).toMatchObject({ code: "EVENT_TOO_LARGE", limit: LIMIT });
      expect((error as Error).message).toMatch(
        /EVENT_TOO_LARGE: step "make" made a \w+ of \d+ bytes of JSON/,
      );
      expect(calls).toEqual([1]);
      expect(state.status).toBe("failed");
      // It went nowhere: not on the stream, not in a queue, not as the result. (The failure's own
      // events carry a stack, whose length depends on where the checkout is, so look for the text.)
      const made = text(LIMIT + 10);
      expect(streamed.some((e) => JSON.stringify(e.data).includes(made))).toBe(false);
      expect(JSON.stringify(state.queues)).not.toContain(made);
    });
  }

  it("lets an event up to the limit through, counting UTF-8 bytes of its data's JSON", async () => {
    const calls: number[] = [];
    // {"text":"ééé…"}: 11 bytes of JSON around the text.
    const { error, state } = await outcome(workflow("return", LIMIT - 12, calls));
    expect(error).toBeNull();
    expect(state.outcome?.result).toBe("taken");
  });

  it("tells a larger value from one that fits exactly as the UTF-8 length of JSON.stringify does, for any JSON", () => {
    fc.assert(
      fc.property(fc.jsonValue({ noUnicodeString: false }), fc.nat(2000), (value, limit) => {
        const bytes = Buffer.byteLength(JSON.stringify(value) ?? "");
        const measured = jsonLargerThan(value, limit);
        expect(measured.larger).toBe(bytes > limit);
        if (measured.larger) expect(measured.bytes).toBe(bytes);
      }),
      { numRuns: 500 },
    );
  });

  it("fails a ctx.streamText as soon as its text passes the limit, without reading its source to the end", async () => {
    const pulled: number[] = [];
    const calls: number[] = [];
    // 100 pieces of 100 bytes; the limit (1000) is passed at about the tenth.
    async function* tokens() {
      for (let i = 0; i < 100; i++) {
        pulled.push(i);
        yield "é".repeat(50);
      }
    }
    const wf = new Workflow({ name: "t", timeout: null }).step(
      "talk",
      { accepts: [StartEvent], emits: [StopEvent], retry: { maxAttempts: 3, delay: 0.001 } },
      async (ctx) => {
        calls.push(ctx.attempt);
        return StopEvent.create({ result: (await ctx.streamText(tokens())).length });
      },
    );
    const handler = wf.run(undefined, { maxEventBytes: LIMIT });
    const error = await handler.then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(StepFailedError);
    expect((error as StepFailedError).cause).toMatchObject({ code: "EVENT_TOO_LARGE", limit: LIMIT });
    expect((error as Error).message).toMatch(/step "talk" made a TextEvent of \d+ bytes of JSON/);
    expect(calls).toEqual([1]);
    expect(pulled.length).toBeLessThanOrEqual(11);
    expect(pulled.length).toBeGreaterThanOrEqual(9);
  });

  it("lets a ctx.streamText whose TextEvent fits exactly through, a surrogate pair split between pieces included", async () => {
    const wf = new Workflow({ name: "t", timeout: null }).step(
      "talk",
      { accepts: [StartEvent], emits: [StopEvent] },
      async (ctx) =>
        StopEvent.create({ result: await ctx.streamText(["a", "\ud83d", "\ude00", "b"], { id: "s" }) }),
    );
    // The TextEvent's JSON with "a😀b" as its text is exactly its size: let it through at that limit.
    let exact = 0;
    const probe = new Workflow({ name: "p", timeout: null }).step(
      "talk",
      { accepts: [StartEvent], emits: [StopEvent] },
      async (ctx) => {
        await ctx.streamText(["a😀b"], { id: "s" });
        return StopEvent.create({ result: null });
      },
    );
    const probed = probe.run();
    await probed;
    for (const e of probed.engine.history ?? [])
      if (e.type === "TextEvent") exact = Buffer.byteLength(JSON.stringify(e.value));
    expect(exact).toBeGreaterThan(0);
    expect(await wf.run(undefined, { maxEventBytes: exact })).toBe("a😀b");
  });

  it("has no limit by default outside a server", async () => {
    const calls: number[] = [];
    const handler = workflow("return", 100_000, calls).run();
    expect(await handler).toBe("taken");
  });
});
