// A step with retries: it fails on its first attempts (as a flaky API would) and succeeds later.
// Watch the attempts with: curl "localhost:8080/events/<handler_id>?sse=false&include_internal=true"

import { defineEvent, StartEvent, StopEvent, Workflow } from "eventloom";
import { z } from "zod";

export const FlakyInput = defineEvent(
  "FlakyInput",
  z.object({ failures: z.number().int().min(0).max(10).default(2) }),
  { extends: StartEvent },
);

export const flaky = new Workflow({ name: "FlakyWorkflow" }).step(
  "call_api",
  {
    accepts: [FlakyInput],
    emits: [StopEvent],
    // Five attempts in all, waiting 0.1 s, then 0.2 s, 0.4 s... between them.
    retry: { maxAttempts: 5, delay: 0.1, backoff: 2 },
  },
  async (ctx, ev) => {
    if (ctx.attempt <= ev.data.failures) throw new Error(`the API is down (attempt ${ctx.attempt})`);
    return StopEvent.create({ result: { attempts: ctx.attempt } });
  },
);
