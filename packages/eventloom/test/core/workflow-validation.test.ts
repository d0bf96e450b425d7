import {
  defineEvent,
  HumanResponseEvent,
  InputRequiredEvent,
  StartEvent,
  StopEvent,
  Workflow,
  WorkflowValidationError,
} from "eventloom";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { eventResolver } from "../../src/core/event-resolver.js";

const A = defineEvent("A", z.object({}));
const B = defineEvent("B", z.object({}));
const Start2 = defineEvent("Start2", z.object({}), { extends: StartEvent });
const Ask = defineEvent("Ask", z.object({}), { extends: InputRequiredEvent });
const Answer = defineEvent("Answer", z.object({}), { extends: HumanResponseEvent });
const noop = async () => undefined;

function problems(build: () => Workflow<never, never, never> | unknown): string {
  try {
    const wf = build() as Workflow;
    wf.validate();
  } catch (error) {
    expect(error).toBeInstanceOf(WorkflowValidationError);
    expect((error as WorkflowValidationError).code).toBe("INVALID_WORKFLOW");
    return (error as Error).message;
  }
  throw new Error("expected a validation error");
}

describe("workflow validation", () => {
  it("accepts the seed's workflows", () => {
    const wf = new Workflow({ name: "ok" })
      .step("prompt", { accepts: [StartEvent], emits: [Ask] }, noop)
      .step("greet", { accepts: [Answer], emits: [StopEvent] }, noop);
    expect(wf.validate()).toBe(StartEvent);
  });

  it("needs steps", () => {
    expect(problems(() => new Workflow({ name: "w" }))).toMatch(/has no steps/);
  });

  it("needs exactly one start event", () => {
    expect(
      problems(() => new Workflow({ name: "w" }).step("s", { accepts: [A], emits: [StopEvent] }, noop)),
    ).toMatch(/no step accepts a start event/);
    expect(
      problems(() =>
        new Workflow({ name: "w" })
          .step("s1", { accepts: [StartEvent], emits: [StopEvent] }, noop)
          .step("s2", { accepts: [Start2], emits: [StopEvent] }, noop),
      ),
    ).toMatch(/more than one start event is accepted: StartEvent, Start2/);
  });

  it("needs a stop event", () => {
    expect(
      problems(() => new Workflow({ name: "w" }).step("s", { accepts: [StartEvent], emits: [] }, noop)),
    ).toMatch(/no step emits a stop event/);
  });

  it("names the step and the event nobody produces", () => {
    const msg = problems(() =>
      new Workflow({ name: "w" })
        .step("s", { accepts: [StartEvent], emits: [StopEvent] }, noop)
        .step("t", { accepts: [B], emits: [StopEvent] }, noop),
    );
    expect(msg).toMatch(/step "t" accepts B, which no step emits/);
    expect(msg).toMatch(/step "t" is unreachable/);
  });

  it("accepts an event that only comes from outside when declared as additional", () => {
    const wf = new Workflow({ name: "w" })
      .step("s", { accepts: [StartEvent], emits: [StopEvent] }, noop)
      .step("t", { accepts: [B], emits: [StopEvent] }, noop);
    expect(() => wf.validate([B])).not.toThrow();
  });

  it("names the step and the event nobody takes", () => {
    expect(
      problems(() =>
        new Workflow({ name: "w" }).step("s", { accepts: [StartEvent], emits: [A, StopEvent] }, noop),
      ),
    ).toMatch(/step "s" emits A, which no step accepts/);
  });

  it("finds unreachable steps in a cycle cut off from the start", () => {
    const msg = problems(() =>
      new Workflow({ name: "w" })
        .step("s", { accepts: [StartEvent], emits: [StopEvent] }, noop)
        .step("x", { accepts: [A], emits: [B] }, noop)
        .step("y", { accepts: [B], emits: [A] }, noop),
    );
    expect(msg).toMatch(/step "x" is unreachable/);
    expect(msg).toMatch(/step "y" is unreachable/);
  });

  it("rejects duplicate step names and bad options when the step is declared", () => {
    const wf = new Workflow({ name: "w" }).step("s", { accepts: [StartEvent], emits: [StopEvent] }, noop);
    expect(() => wf.step("s", { accepts: [A], emits: [] }, noop)).toThrow(/duplicate step name "s"/);
    expect(() => wf.step("n", { accepts: [A], numWorkers: 0 }, noop)).toThrow(/numWorkers must be >= 1/);
    expect(() => wf.step("r", { accepts: [A], retry: { maxAttempts: 0, delay: 1 } }, noop)).toThrow(
      /maxAttempts/,
    );
    expect(() => wf.step("t", { accepts: [A], timeout: -1 }, noop)).toThrow(/timeout must be > 0/);
    expect(() => wf.step("e", { accepts: [] }, noop)).toThrow(/accepts no event/);
    expect(() => new Workflow({ name: "w", timeout: 0 })).toThrow(/timeout/);
  });

  it("lists its events, start and stop events", () => {
    const Out = defineEvent("Out", z.object({ output: z.string() }), { extends: StopEvent });
    const wf = new Workflow({ name: "w" })
      .step("s", { accepts: [StartEvent], emits: [A] }, noop)
      .step("t", { accepts: [A], emits: [Out] }, noop);
    expect(wf.events.map((d) => d.type)).toEqual(["StartEvent", "A", "Out"]);
    expect(wf.startEvent).toBe(StartEvent);
    expect(wf.stopEvents).toEqual([Out]);
    expect(wf.findEvent("Out")).toBe(Out);
    expect(wf.findEvent("x.y.Out")).toBe(Out);
    expect(wf.findEvent("Nope")).toBeUndefined();
  });

  it("finds events by the HTTP API's rule: an ambiguous short type finds nothing, a qualified name finds it", () => {
    const First = defineEvent("billing.Charge", z.object({}));
    const Second = defineEvent("refunds.Charge", z.object({}));
    const wf = new Workflow({ name: "w" })
      .step("s", { accepts: [StartEvent], emits: [First, Second] }, noop)
      .step("t", { accepts: [First, Second], emits: [StopEvent] }, noop);
    expect(wf.findEvent("Charge")).toBeUndefined();
    expect(wf.findEvent("billing.Charge")).toBe(First);
    expect(wf.findEvent("refunds.Charge")).toBe(Second);
    expect(eventResolver(wf.events)("Charge")).toBeUndefined();
  });
});
