// Run state with ctx.store, typed by a zod schema: a step loops on itself until a count is reached.
// The state is persisted with the run and carried over when a handler is continued (send the same
// handler_id again and the count goes on from where it ended).

import { defineEvent, StartEvent, StopEvent, Workflow } from "eventloom";
import { z } from "zod";

export const CountTo = defineEvent(
  "CountTo",
  z.object({ target: z.number().int().min(1).max(100).default(3) }),
  {
    extends: StartEvent,
  },
);
export const Tick = defineEvent("Tick", z.object({ target: z.number().int() }));

// The schema's defaults fill the initial state; ctx.store.get/set are typed by it.
const CounterState = z.object({
  count: z.number().int().default(0),
  history: z.array(z.number().int()).default([]),
});

export const counter = new Workflow({ name: "CounterWorkflow", state: CounterState })
  .step("start", { accepts: [CountTo], emits: [Tick] }, async (_ctx, ev) =>
    Tick.create({ target: ev.data.target }),
  )
  .step("tick", { accepts: [Tick], emits: [Tick, StopEvent] }, async (ctx, ev) => {
    const count = ctx.store.get("count") + 1;
    ctx.store.set("count", count);
    ctx.store.set("history", [...ctx.store.get("history"), count]);
    if (count % ev.data.target !== 0) return Tick.create({ target: ev.data.target });
    return StopEvent.create({ result: { count, history: ctx.store.get("history") } });
  });
