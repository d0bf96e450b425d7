// A start event with nested and optional fields, to show the debugger's generated forms.

import { defineEvent, StartEvent, StopEvent, Workflow } from "eventloom";
import { z } from "zod";

export const TripRequest = defineEvent(
  "TripRequest",
  z.object({
    traveller: z.object({
      name: z.string().min(1),
      email: z.email().optional(),
    }),
    destination: z.string().default("Lisbon"),
    nights: z.number().int().min(1).max(30).default(3),
    budget: z.enum(["low", "medium", "high"]).default("medium"),
    interests: z.array(z.string()).default([]),
    flight: z
      .object({ cabin: z.enum(["economy", "business"]), direct: z.boolean().default(false) })
      .optional(),
  }),
  { extends: StartEvent },
);

export const TripPlan = defineEvent("TripPlan", z.object({ summary: z.string(), costPerNight: z.number() }), {
  extends: StopEvent,
});

const PRICES = { low: 60, medium: 120, high: 300 } as const;

export const tripPlanner = new Workflow({ name: "TripPlannerWorkflow" }).step(
  "plan",
  { accepts: [TripRequest], emits: [TripPlan] },
  async (_ctx, ev) => {
    const { traveller, destination, nights, budget, interests, flight } = ev.data;
    const extras = [
      interests.length > 0 ? `for ${interests.join(", ")}` : null,
      flight ? `flying ${flight.cabin}${flight.direct ? ", direct" : ""}` : null,
    ].filter((part) => part !== null);
    return TripPlan.create({
      summary: [`${nights} nights in ${destination} for ${traveller.name}`, ...extras].join(", "),
      costPerNight: PRICES[budget],
    });
  },
);
