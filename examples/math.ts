// A typed start event and a custom stop event: the seed's results example ({a, b} → four results).
// Try it: curl -X POST localhost:8080/workflows/math/run -H 'content-type: application/json' -d '{"start_event": {"a": 12, "b": 3}}'

import { defineEvent, StartEvent, StopEvent, Workflow } from "eventloom";
import { z } from "zod";

// Extending StartEvent makes this the workflow's start event: the server validates {a, b} against it,
// and the debugger draws a form for it.
export const MathInput = defineEvent("MathInput", z.object({ a: z.number(), b: z.number() }), {
  extends: StartEvent,
});

// Extending StopEvent makes it end the run; its fields become the run's result.
export const MathResult = defineEvent(
  "MathResult",
  z.object({
    sum: z.number(),
    subtraction: z.number(),
    multiplication: z.number(),
    division: z.number().nullable(), // null when b is 0
  }),
  { extends: StopEvent },
);

export const math = new Workflow({ name: "MathWorkflow" }).step(
  "compute",
  { accepts: [MathInput], emits: [MathResult] },
  async (_ctx, ev) => {
    const { a, b } = ev.data; // typed: { a: number; b: number }
    return MathResult.create({
      sum: a + b,
      subtraction: a - b,
      multiplication: a * b,
      division: b === 0 ? null : a / b,
    });
  },
);
