// Regression: every step parked by `ctx.waitForEvent` stayed in memory forever, with its whole run.
// `RunEngine.waitFor` returned one module-level `NEVER` promise (src/core/run-engine.ts); the parked
// step's async frame awaits it, so NEVER's reaction list holds the frame → StepContext → RunEngine →
// its state and journal (the server's LiveRun). NEVER never settles and is never collected, so the
// reactions pile up: a run that waited for input is never freed, not when the server releases it
// as idle, not when it completes. Found by the load test (reliability/load.test.ts): ~6 KiB of heap
// per waiting run stays after the idle release; a heap snapshot shows the path above.
//
// Fixed: `waitFor` returns a fresh never-settling promise per call; nothing references it but the
// parked frame, so both are collected.
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import {
  defineEvent,
  HumanResponseEvent,
  InputRequiredEvent,
  StartEvent,
  StopEvent,
  Workflow,
} from "eventloom";
import { describe, expect, it } from "vitest";
import { z } from "zod";

setFlagsFromString("--expose-gc");
const gc = runInNewContext("gc") as () => void;

const Question = defineEvent("LeakQuestion", z.object({ prompt: z.string() }), {
  extends: InputRequiredEvent,
});
const Answer = defineEvent("LeakAnswer", z.object({ text: z.string() }), { extends: HumanResponseEvent });
const asking = new Workflow({ name: "asking", timeout: null }).step(
  "ask",
  { accepts: [StartEvent], emits: [StopEvent] },
  async (ctx) => {
    const answer = await ctx.waitForEvent(Answer, { waiterEvent: Question.create({ prompt: "?" }) });
    return StopEvent.create({ result: answer.data.text });
  },
);

async function completedRun(): Promise<WeakRef<object>> {
  const handler = asking.run({}, { additionalEvents: [Answer] });
  for await (const ev of handler.stream()) {
    if (Question.is(ev)) break;
  }
  handler.sendEvent(Answer.create({ text: "done" }));
  expect(await handler).toBe("done");
  return new WeakRef(handler.engine);
}

describe("regression: steps parked by waitForEvent", () => {
  it("are freed with their run once it has completed", async () => {
    const ref = await completedRun();
    for (let i = 0; i < 5 && ref.deref() !== undefined; i++) {
      await new Promise((resolve) => setImmediate(resolve));
      gc();
    }
    expect(ref.deref()).toBeUndefined();
  });
});
