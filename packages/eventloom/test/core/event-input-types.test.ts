// Every place that takes an event's fields takes the schema's input (fields with a default or
// `.optional()` may be left out), and a step's `ev.data` is the output (defaults filled in). The
// package's typecheck compiles this file: a `@ts-expect-error` line that compiles is an error there.

import {
  defineEvent,
  type EventOf,
  HumanResponseEvent,
  type InputOf,
  InputRequiredEvent,
  StartEvent,
  StopEvent,
  Workflow,
} from "eventloom";
import { describe, expect, expectTypeOf, it } from "vitest";
import { z } from "zod";

const Order = defineEvent(
  "InputOrder",
  z.object({
    item: z.string(),
    quantity: z.number().int().default(1),
    note: z.string().optional(),
    shipping: z.object({ express: z.boolean().default(false) }).default({ express: false }),
  }),
  { extends: StartEvent },
);
const Ask = defineEvent("InputAsk", z.object({ question: z.string() }), { extends: InputRequiredEvent });
const Approval = defineEvent(
  "InputApproval",
  z.object({ approved: z.boolean(), comment: z.string().default("") }),
  { extends: HumanResponseEvent },
);

const ordering = new Workflow({ name: "ordering", timeout: null }).step(
  "order",
  { accepts: [Order], emits: [StopEvent], waitsFor: [Approval] },
  async (ctx, ev) => {
    // the output side: defaults are filled in, so these are not `| undefined`
    expectTypeOf(ev.data.quantity).toEqualTypeOf<number>();
    expectTypeOf(ev.data.shipping.express).toEqualTypeOf<boolean>();
    expectTypeOf(ev.data.note).toEqualTypeOf<string | undefined>();
    const answer = await ctx.waitForEvent(Approval, { waiterEvent: Ask.create({ question: "ok?" }) });
    expectTypeOf(answer.data.comment).toEqualTypeOf<string>();
    return StopEvent.create({
      result: `${ev.data.quantity} × ${ev.data.item}, express ${ev.data.shipping.express}: ${answer.data.approved} ${answer.data.comment}`,
    });
  },
);

describe("event input types", () => {
  it("create takes the input: defaulted and optional fields may be left out", () => {
    expectTypeOf<InputOf<typeof Order>>().toEqualTypeOf<{
      item: string;
      quantity?: number | undefined;
      note?: string | undefined;
      shipping?: { express?: boolean | undefined } | undefined;
    }>();
    const ev = Order.create({ item: "desk" });
    expectTypeOf(ev).toEqualTypeOf<EventOf<typeof Order>>();
    expect(ev.data).toEqual({ item: "desk", quantity: 1, shipping: { express: false } });
  });

  it("does not compile a missing required field or a wrong type", () => {
    // @ts-expect-error item is required
    expect(() => Order.create({})).toThrow(/item/);
    // @ts-expect-error quantity is a number
    expect(() => Order.create({ item: "desk", quantity: "2" })).toThrow(/quantity/);
  });

  it("wf.run and handler.sendEvent take the input, ev.data in the step is the output", async () => {
    const handler = ordering.run({ item: "desk" });
    for await (const ev of handler.stream()) {
      if (Ask.is(ev)) handler.sendEvent(Approval.create({ approved: true }));
    }
    expect(await handler).toBe("1 × desk, express false: true ");
    // @ts-expect-error item is required
    expect(() => ordering.run({ quantity: 2 })).toThrow(/item/);
  });
});
