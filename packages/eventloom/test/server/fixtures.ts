import {
  defineEvent,
  HumanResponseEvent,
  InputRequiredEvent,
  StartEvent,
  StopEvent,
  Workflow,
} from "eventloom";
import { z } from "zod";

// The seed's two example workflows, from the tests' one copy of them.
export {
  greeting,
  human,
  OutEvent,
  RequestEvent,
  ResponseEvent,
  StreamEvent,
} from "../support/seed-workflows.js";

/** A typed start event. */
export const AddStart = defineEvent("AddStart", z.object({ a: z.number(), b: z.number() }), {
  extends: StartEvent,
});
export const add = new Workflow({ name: "Add" }).step(
  "add",
  { accepts: [AddStart], emits: [StopEvent] },
  async (_ctx, ev) => StopEvent.create({ result: ev.data.a + ev.data.b }),
);

/** Fails on every attempt. */
export const failing = new Workflow({ name: "Failing" }).step(
  "explode",
  { accepts: [StartEvent], emits: [StopEvent] },
  async () => {
    throw new Error("boom");
  },
);

/** Counts its runs in its state: continuation carries the count. */
export const counter = new Workflow({ name: "Counter" }).step(
  "count",
  { accepts: [StartEvent], emits: [StopEvent] },
  async (ctx) => {
    const count = ctx.store.get<number>("count", 0) + 1;
    ctx.store.set("count", count);
    return StopEvent.create({ result: count });
  },
);

/** Waits with ctx.waitForEvent for an event declared only as an additional event. */
export const Approval = defineEvent("Approval", z.object({ approved: z.boolean() }));
export const AskApproval = defineEvent("AskApproval", z.object({ question: z.string() }), {
  extends: InputRequiredEvent,
});
export const approval = new Workflow({ name: "Approval", timeout: null }).step(
  "ask",
  { accepts: [StartEvent], emits: [StopEvent, AskApproval] },
  async (ctx) => {
    const answer = await ctx.waitForEvent(Approval, {
      waiterEvent: AskApproval.create({ question: "Approve?" }),
    });
    return StopEvent.create({ result: answer.data.approved ? "approved" : "rejected" });
  },
);

/** Waits for outside events forever (no timeout): for cancel, streams and idle release. */
export const Ping = defineEvent("Ping", z.object({ n: z.number().int() }), { extends: HumanResponseEvent });
export const Finish = defineEvent("Finish", z.object({}), { extends: HumanResponseEvent });
export const Pong = defineEvent("Pong", z.object({ n: z.number().int() }));
export const waiting = new Workflow({ name: "Waiting", timeout: null })
  .step("start", { accepts: [StartEvent], emits: [] }, async () => undefined)
  .step("ping", { accepts: [Ping], emits: [] }, async (ctx, ev) => {
    ctx.writeEventToStream(Pong.create({ n: ev.data.n }));
    ctx.store.set("last", ev.data.n);
  })
  .step("finish", { accepts: [Finish], emits: [StopEvent] }, async (ctx) =>
    StopEvent.create({ result: ctx.store.get("last", null) }),
  );

/** Two stop events. */
export const Left = defineEvent("Left", z.object({ left: z.string() }), { extends: StopEvent });
export const Right = defineEvent("Right", z.object({ right: z.number() }), { extends: StopEvent });
export const fork = new Workflow({ name: "Fork" }).step(
  "choose",
  { accepts: [StartEvent], emits: [Left, Right] },
  async (_ctx, ev) => (ev.data["right"] ? Right.create({ right: 1 }) : Left.create({ left: "l" })),
);
