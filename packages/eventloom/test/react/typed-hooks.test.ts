// The hooks are typed from the server's workflow map once it is registered (a type-level test:
// `tsc` checks it; vitest runs the assertions as no-ops). The registration is this package's one
// (the Chromium test's page is typed by it too).
import type { RegisteredResult, RegisteredStart, WorkflowRun } from "eventloom/react";
import { describe, expectTypeOf, it } from "vitest";
import type { workflows } from "./fixtures/talk-server.js";

declare module "eventloom/react" {
  interface Register {
    workflows: typeof workflows;
  }
}

describe("hooks typed from the registered workflows", () => {
  it("checks a registered workflow's start event and types its result", () => {
    expectTypeOf<{ topic: string }>().toExtend<RegisteredStart<"talk">>();
    expectTypeOf<{ topic: string; ask: boolean }>().toExtend<RegisteredStart<"talk">>();
    expectTypeOf<{ topik: number }>().not.toExtend<RegisteredStart<"talk">>();
    expectTypeOf<RegisteredResult<"talk">>().toEqualTypeOf<{ words: number }>();
    expectTypeOf<WorkflowRun<"talk">["result"]>().toEqualTypeOf<{ words: number } | null>();
    expectTypeOf<WorkflowRun<"talk">["start"]>()
      .parameter(0)
      .toEqualTypeOf<RegisteredStart<"talk"> | undefined>();
  });

  it("leaves other names loose", () => {
    expectTypeOf<RegisteredResult<"other">>().toBeUnknown();
  });
});
