import { defineEvent, InputRequiredEvent, StartEvent, StopEvent, Workflow } from "eventloom";
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

export const Tick = defineEvent("Tick", z.object({ i: z.number().int() }));

/** Writes `count` events to the stream as fast as it can, then stops: a big run for the scale tests. */
export const flood = new Workflow({ name: "FloodWorkflow", timeout: null }).step(
  "flood",
  { accepts: [StartEvent], emits: [StopEvent] },
  async (ctx, ev) => {
    const count = typeof ev.data["count"] === "number" ? ev.data["count"] : 10_000;
    for (let i = 0; i < count; i++) ctx.writeEventToStream(Tick.create({ i }));
    return StopEvent.create({ result: { written: count } });
  },
);

/** Throws on every attempt, each with its own message: three attempts, then the run fails. */
export const flaky = new Workflow({ name: "FlakyWorkflow" }).step(
  "fetch_rates",
  { accepts: [StartEvent], emits: [StopEvent], retry: { maxAttempts: 3, delay: 0.01 } },
  async (ctx) => {
    throw new Error(`rates service answered 503 (try ${ctx.attempt})`);
  },
);

export const Parsed = defineEvent("Parsed", z.object({ words: z.number().int() }));

/** Two steps joined by one event: the event happens once, whatever the steps' state changes say. */
export const chain = new Workflow({ name: "ChainWorkflow" })
  .step("parse", { accepts: [StartEvent], emits: [Parsed] }, async () => Parsed.create({ words: 3 }))
  .step("count", { accepts: [Parsed], emits: [StopEvent] }, async (_ctx, ev) =>
    StopEvent.create({ result: ev.data.words }),
  );

/** A pipeline of `steps` steps, each passing its own event to the next: a tall graph. */
export function pipeline(steps: number): Workflow {
  const stages = Array.from({ length: steps - 1 }, (_, i) =>
    defineEvent(`Stage${i + 1}Done`, z.object({ stage: z.number().int() })),
  );
  let wf = new Workflow({ name: `Pipeline${steps}` });
  for (let i = 0; i < steps; i++) {
    const accepts = i === 0 ? StartEvent : stages[i - 1]!;
    const emits = i === steps - 1 ? StopEvent : stages[i]!;
    wf = wf.step(`stage_${i + 1}`, { accepts: [accepts], emits: [emits] }, async () =>
      i === steps - 1 ? StopEvent.create({ result: steps }) : stages[i]!.create({ stage: i + 1 }),
    );
  }
  return wf;
}

export const Topic = defineEvent("Topic", z.object({ topic: z.string().describe("What to write about") }), {
  extends: StartEvent,
});
export const Draft = defineEvent("Draft", z.object({ words: z.number().int() }));

/** Writes its draft to the stream and passes it on: the stored Draft is a point to fork from. */
export const writer = new Workflow({ name: "WriterWorkflow" })
  .step("outline", { accepts: [Topic], emits: [Draft] }, async (ctx, ev) => {
    const draft = Draft.create({ words: ev.data.topic.length });
    ctx.writeEventToStream(draft);
    ctx.sendEvent(draft);
    return null;
  })
  .step("publish", { accepts: [Draft], emits: [StopEvent] }, async (_ctx, ev) =>
    StopEvent.create({ result: { words: ev.data.words * 100 } }),
  );

export const Approval = defineEvent("Approval", z.object({ approved: z.boolean() }));
export const AskApproval = defineEvent("AskApproval", z.object({ question: z.string() }), {
  extends: InputRequiredEvent,
});
/** Asks with ctx.waitForEvent: a run that waits for a person in another way than `human`'s. */
export const approval = new Workflow({ name: "ApprovalWorkflow", timeout: null }).step(
  "ask",
  { accepts: [StartEvent], emits: [StopEvent, AskApproval] },
  async (ctx) => {
    const answer = await ctx.waitForEvent(Approval, {
      waiterEvent: AskApproval.create({ question: "Ship release 4.2?" }),
    });
    return StopEvent.create({ result: answer.data.approved ? "shipped" : "held" });
  },
);

export const Chapter = defineEvent("Chapter", z.object({ title: z.string() }), { extends: StartEvent });
/** A child run: counts its title's letters. */
export const chapter = new Workflow({ name: "ChapterWorkflow" }).step(
  "count",
  { accepts: [Chapter], emits: [StopEvent] },
  async (_ctx, ev) => StopEvent.create({ result: ev.data.title.length }),
);
/** Runs a child for each of two chapters and adds their counts: a run with a tree. */
export const book = new Workflow({ name: "BookWorkflow" }).step(
  "chapters",
  { accepts: [StartEvent], emits: [StopEvent] },
  async (ctx) => {
    const a = await ctx.runWorkflow("chapter", Chapter.create({ title: "owls" }));
    const b = await ctx.runWorkflow("chapter", Chapter.create({ title: "bats" }));
    return StopEvent.create({ result: Number(a) + Number(b) });
  },
);

export const Noted = defineEvent("Noted", z.object({ n: z.number().int() }));
export const Checked = defineEvent("Checked", z.object({ n: z.number().int() }));
/** Three steps that keep notes in the run's state: a fork from a step's end must carry them. */
export const notes = new Workflow({ name: "NotesWorkflow" })
  .step("note", { accepts: [Topic], emits: [Noted] }, async (ctx, ev) => {
    ctx.store.set("topic", ev.data.topic);
    return Noted.create({ n: 1 });
  })
  .step("check", { accepts: [Noted], emits: [Checked] }, async (ctx, ev) => {
    ctx.store.set("checks", ctx.store.get<number>("checks", 0) + 1);
    return Checked.create({ n: ev.data.n + 1 });
  })
  .step("report", { accepts: [Checked], emits: [StopEvent] }, async (ctx, ev) =>
    StopEvent.create({
      result: `${ctx.store.get<string>("topic", "none")}: ${ev.data.n} steps, ${ctx.store.get<number>("checks", 0)} check`,
    }),
  );
