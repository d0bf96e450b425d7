import { trace } from "@opentelemetry/api";
import { defineEvent, InputRequiredEvent, StartEvent, StopEvent, Workflow } from "eventloom";
import { z } from "zod";

export const Work = defineEvent("Work", z.object({ n: z.number() }));
export const Progress = defineEvent("Progress", z.object({ note: z.string() }));
export const Answer = defineEvent("Answer", z.object({ ok: z.boolean() }));
export const Ask = defineEvent("Ask", z.object({ question: z.string() }), { extends: InputRequiredEvent });

/**
 * `flaky` fails its first attempt, then makes a span of its own and streams Progress; `ask` waits for
 * a person's Answer. `fails` says which attempts of `flaky` throw (shared across runs of one process).
 */
export function tracedWorkflow(fails: (attempt: number) => boolean = (a) => a === 1): Workflow {
  return new Workflow({ name: "Traced", timeout: null })
    .step(
      "flaky",
      { accepts: [StartEvent], emits: [Work], retry: { maxAttempts: 3, delay: 0 } },
      async (ctx, _ev) => {
        const attempt = ctx.store.get("attempt", 0) as number;
        ctx.store.set("attempt", attempt + 1);
        if (fails(attempt + 1)) throw new Error(`attempt ${attempt + 1} fails`);
        // Streamed inside the user's own span: still an event of the step's span.
        await trace.getTracer("user-code").startActiveSpan("user.work", async (span) => {
          await Promise.resolve();
          ctx.writeEventToStream(Progress.create({ note: "working" }));
          span.end();
        });
        return Work.create({ n: 1 });
      },
    )
    .step("ask", { accepts: [Work], emits: [StopEvent, Ask] }, async (ctx) => {
      const answer = await ctx.waitForEvent(Answer, { waiterEvent: Ask.create({ question: "ok?" }) });
      return StopEvent.create({ result: answer.data.ok ? "yes" : "no" });
    });
}
