import { describe, expect, it } from "vitest";
import {
  defineEvent,
  HumanResponseEvent,
  InputRequiredEvent,
  StartEvent,
  StopEvent,
  Workflow,
} from "workflows";
import { z } from "zod";

const RequestEvent = defineEvent("RequestEvent", z.object({ prompt: z.string() }), {
  extends: InputRequiredEvent,
});
const ResponseEvent = defineEvent("ResponseEvent", z.object({ response: z.string() }), {
  extends: HumanResponseEvent,
});
const OutEvent = defineEvent("OutEvent", z.object({ output: z.string() }), { extends: StopEvent });

describe("smoke", () => {
  it("runs a one-step workflow", async () => {
    const wf = new Workflow({ name: "g" }).step(
      "greet",
      { accepts: [StartEvent], emits: [StopEvent] },
      async (_c, ev) => StopEvent.create({ result: `Hello, ${String(ev.data["name"] ?? "World")}!` }),
    );
    const h = wf.run({ name: "Ada" });
    const events = [];
    for await (const e of h.stream({ includeInternal: true })) events.push(e.type);
    expect(await h).toBe("Hello, Ada!");
    expect(events).toEqual(["StepStateChanged", "StepStateChanged", "StopEvent"]);
  });
  it("human in the loop", async () => {
    const wf = new Workflow({ name: "h" })
      .step("prompt", { accepts: [StartEvent], emits: [RequestEvent] }, async () =>
        RequestEvent.create({ prompt: "name?" }),
      )
      .step("greet", { accepts: [ResponseEvent], emits: [OutEvent] }, async (_c, ev) =>
        OutEvent.create({ output: `Hello, ${ev.data.response}` }),
      );
    const h = wf.run();
    for await (const e of h.stream()) {
      if (e.type === "RequestEvent") h.sendEvent(ResponseEvent.create({ response: "Ada" }));
    }
    expect(await h).toEqual({ output: "Hello, Ada" });
  });
  it("waitForEvent resumes", async () => {
    const wf = new Workflow({ name: "w" }).step(
      "ask",
      { accepts: [StartEvent], emits: [StopEvent] },
      async (ctx) => {
        ctx.store.set("runs", ctx.store.get("runs", 0) + 1);
        const ans = await ctx.waitForEvent(ResponseEvent, {
          waiterEvent: RequestEvent.create({ prompt: "?" }),
        });
        return StopEvent.create({ result: [ans.data.response, ctx.store.get("runs")] });
      },
    );
    const h = wf.run();
    for await (const e of h.stream())
      if (RequestEvent.is(e)) h.sendEvent(ResponseEvent.create({ response: "x" }));
    expect(await h).toEqual(["x", 2]);
  });
});
