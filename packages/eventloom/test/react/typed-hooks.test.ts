// The hooks are typed from the server's workflow map once it is registered (a type-level test:
// `tsc` checks it; vitest runs the assertions as no-ops).
import { defineEvent, StartEvent, StopEvent, Workflow } from "eventloom";
import type { RegisteredResult, RegisteredStart, WorkflowRun } from "eventloom/react";
import { describe, expectTypeOf, it } from "vitest";
import { z } from "zod";

const Question = defineEvent("Question", z.object({ text: z.string() }), { extends: StartEvent });
const Answered = defineEvent("Answered", z.object({ answer: z.string() }), { extends: StopEvent });
const qa = new Workflow({ name: "qa" }).step(
  "answer",
  { accepts: [Question], emits: [Answered] },
  async (_c, ev) => Answered.create({ answer: ev.data.text }),
);
const workflows = { qa };

declare module "eventloom/react" {
  interface Register {
    workflows: typeof workflows;
  }
}

describe("hooks typed from the registered workflows", () => {
  it("checks a registered workflow's start event and types its result", () => {
    expectTypeOf<RegisteredStart<"qa">>().toExtend<{ text: string } | ReturnType<typeof Question.create>>();
    expectTypeOf<{ text: string }>().toExtend<RegisteredStart<"qa">>();
    expectTypeOf<{ txt: number }>().not.toExtend<RegisteredStart<"qa">>();
    expectTypeOf<RegisteredResult<"qa">>().toEqualTypeOf<{ answer: string }>();
    expectTypeOf<WorkflowRun<"qa">["result"]>().toEqualTypeOf<{ answer: string } | null>();
    expectTypeOf<WorkflowRun<"qa">["start"]>()
      .parameter(0)
      .toEqualTypeOf<RegisteredStart<"qa"> | undefined>();
  });

  it("leaves other names loose", () => {
    expectTypeOf<RegisteredResult<"other">>().toBeUnknown();
  });
});
