// The seed's two example workflows (examples/greeting-server.ts and
// examples/human-in-the-loop-server.ts, which lie outside this package's tsconfig) as the tests use
// them: the one copy for the in-process server tests (../server/fixtures.ts) and the CLI's served
// file (../cli/fixtures/seed-server.ts), with the greeting's pause shortened so that tests stay quick.
import { setTimeout as sleep } from "node:timers/promises";
import {
  defineEvent,
  HumanResponseEvent,
  InputRequiredEvent,
  StartEvent,
  StopEvent,
  Workflow,
} from "eventloom";
import { z } from "zod";

export const StreamEvent = defineEvent("StreamEvent", z.object({ sequence: z.number().int() }));

export const greeting = new Workflow({ name: "GreetingWorkflow" }).step(
  "greet",
  { accepts: [StartEvent], emits: [StopEvent] },
  async (ctx, ev) => {
    for (let i = 0; i < 3; i++) {
      ctx.writeEventToStream(StreamEvent.create({ sequence: i }));
      await sleep(20);
    }
    const name = typeof ev.data["name"] === "string" ? ev.data["name"] : "World";
    return StopEvent.create({ result: `Hello, ${name}!` });
  },
);

export const RequestEvent = defineEvent("RequestEvent", z.object({ prompt: z.string() }), {
  extends: InputRequiredEvent,
});
export const ResponseEvent = defineEvent("ResponseEvent", z.object({ response: z.string() }), {
  extends: HumanResponseEvent,
});
export const OutEvent = defineEvent("OutEvent", z.object({ output: z.string() }), {
  extends: StopEvent,
});

export const human = new Workflow({ name: "HumanInTheLoopWorkflow", timeout: 1000 })
  .step("prompt_human", { accepts: [StartEvent], emits: [RequestEvent] }, async () =>
    RequestEvent.create({ prompt: "What is your name?" }),
  )
  .step("greet_human", { accepts: [ResponseEvent], emits: [OutEvent] }, async (_ctx, ev) =>
    OutEvent.create({ output: `Hello, ${ev.data.response}` }),
  );
