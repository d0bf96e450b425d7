// The error `ctx.waitForEvent` throws when its timeout passes is the public WaitForEventTimeoutError,
// so that user code can catch it by class.
import { expect, it } from "vitest";
import { z } from "zod";
import {
  defineEvent,
  StartEvent,
  StepFailedError,
  StopEvent,
  WaitForEventTimeoutError,
  Workflow,
  WorkflowError,
} from "../../src/core/index.js";
import { FakeClock } from "./fake-clock.js";

const Reply = defineEvent("TimeoutReply", z.object({ text: z.string() }));

it("a step can catch the timeout of waitForEvent as a WaitForEventTimeoutError", async () => {
  const caught: unknown[] = [];
  const wf = new Workflow({ name: "CatchesTimeout", timeout: null }).step(
    "ask",
    { accepts: [StartEvent], emits: [StopEvent], waitsFor: [Reply] },
    async (ctx) => {
      try {
        return StopEvent.create({ result: (await ctx.waitForEvent(Reply, { timeout: 30 })).data.text });
      } catch (error) {
        caught.push(error);
        if (error instanceof WaitForEventTimeoutError) return StopEvent.create({ result: "gave up" });
        throw error;
      }
    },
  );
  const clock = new FakeClock();
  const handler = wf.run(StartEvent.create({}), { clock });
  await clock.advance(29_999);
  expect(caught).toEqual([]);
  await clock.advance(1);
  await expect(handler).resolves.toBe("gave up");
  expect(caught).toHaveLength(1);
  const error = caught[0] as WaitForEventTimeoutError;
  expect(error).toBeInstanceOf(WorkflowError);
  expect(error.name).toBe("WaitForEventTimeoutError");
  expect(error.code).toBe("WAIT_TIMED_OUT");
  expect(error.message).toBe("No TimeoutReply arrived within 30s");
});

it("an uncaught waitForEvent timeout fails the step under the error's public name", async () => {
  const wf = new Workflow({ name: "TimesOut", timeout: null }).step(
    "ask",
    { accepts: [StartEvent], emits: [StopEvent], waitsFor: [Reply] },
    async (ctx) => StopEvent.create({ result: (await ctx.waitForEvent(Reply, { timeout: 5 })).data.text }),
  );
  const clock = new FakeClock();
  const handler = wf.run(StartEvent.create({}), { clock });
  await clock.advance(5_000);
  const error = await handler.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(StepFailedError);
  expect((error as StepFailedError).cause).toBeInstanceOf(WaitForEventTimeoutError);
  const failed = handler.outcome?.stopEvent.data as { error: { name: string; message: string } };
  expect(failed.error).toEqual({
    name: "WaitForEventTimeoutError",
    message: "No TimeoutReply arrived within 5s",
    stack: expect.stringMatching(/^WaitForEventTimeoutError: No TimeoutReply arrived within 5s\n/),
  });
});
