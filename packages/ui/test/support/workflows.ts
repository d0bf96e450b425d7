import { defineEvent, StartEvent, StopEvent, Workflow } from "eventloom";
import { z } from "zod";

/** A typed start event with nested, optional, enum, list and defaulted fields. */
export const OrderStart = defineEvent(
  "OrderStart",
  z.object({
    customer: z.string().min(2).describe("Who is ordering"),
    quantity: z.number().int().min(1).default(1).describe("How many"),
    express: z.boolean().optional(),
    size: z.enum(["S", "M", "L"]),
    address: z
      .object({
        city: z.string(),
        zip: z
          .string()
          .regex(/^\d{5}$/)
          .optional(),
      })
      .optional(),
    tags: z.array(z.string()).optional(),
  }),
  { extends: StartEvent },
);

export const order = new Workflow({ name: "OrderWorkflow" }).step(
  "place_order",
  { accepts: [OrderStart], emits: [StopEvent] },
  async (_ctx, ev) => StopEvent.create({ result: ev.data }),
);

/** Fails in its only step. */
export const failing = new Workflow({ name: "FailingWorkflow" }).step(
  "explode",
  { accepts: [StartEvent], emits: [StopEvent] },
  async () => {
    throw new Error("boom: the flux capacitor broke");
  },
);

/** Works until it is cancelled. */
export const slow = new Workflow({ name: "SlowWorkflow", timeout: null }).step(
  "wait_forever",
  { accepts: [StartEvent], emits: [StopEvent] },
  async (ctx) => {
    await new Promise<void>((resolve) =>
      ctx.signal.addEventListener("abort", () => resolve(), { once: true }),
    );
    return StopEvent.create({ result: "never" });
  },
);

/** Not declared by any step: the server is told about it with `additionalEvents`, and the UI offers it. */
export const Nudge = defineEvent("Nudge", z.object({ note: z.string().optional() }));
