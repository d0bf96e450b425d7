// Human in the loop with ctx.waitForEvent: the step publishes an InputRequiredEvent, then waits for an
// Approval. The step declares what it waits for (`waitsFor`), so the Approval may come from outside,
// is drawn on the graph and is offered by the debugger; it also declares the question it asks
// (`emits`), so the graph shows the whole loop.
// Try it: start a run with run-nowait, then
//   curl -X POST localhost:8080/events/<handler_id> -d '{"event": {"type": "Approval", "value": {"approved": true}}}'

import {
  defineEvent,
  HumanResponseEvent,
  InputRequiredEvent,
  StartEvent,
  StopEvent,
  Workflow,
} from "eventloom";
import { z } from "zod";

export const ExpenseInput = defineEvent(
  "ExpenseInput",
  z.object({ item: z.string().default("a new laptop"), amount: z.number().positive().default(1200) }),
  { extends: StartEvent },
);
export const ApprovalRequested = defineEvent("ApprovalRequested", z.object({ question: z.string() }), {
  extends: InputRequiredEvent,
});
export const Approval = defineEvent(
  "Approval",
  z.object({ approved: z.boolean(), comment: z.string().optional() }),
  { extends: HumanResponseEvent },
);

export const approval = new Workflow({ name: "ApprovalWorkflow", timeout: 3600 }).step(
  "review",
  { accepts: [ExpenseInput], emits: [ApprovalRequested, StopEvent], waitsFor: [Approval] },
  async (ctx, ev) => {
    // The step ends at the wait and runs again from the top once an Approval arrives (even after a
    // server restart), so keep the code before the wait free of side effects.
    const answer = await ctx.waitForEvent(Approval, {
      waiterEvent: ApprovalRequested.create({
        question: `Approve ${ev.data.item} for $${ev.data.amount}?`,
      }),
    });
    const verdict = answer.data.approved ? "approved" : "rejected";
    return StopEvent.create({
      result: `${ev.data.item}: ${verdict}${answer.data.comment ? ` (${answer.data.comment})` : ""}`,
    });
  },
);
