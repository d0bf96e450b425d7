import {
  defineEvent,
  Event,
  EventValidationError,
  HumanResponseEvent,
  InputRequiredEvent,
  StartEvent,
  StepStateChanged,
  StopEvent,
  WorkflowCancelledEvent,
  WorkflowFailedEvent,
  WorkflowIdleEvent,
  WorkflowTimedOutEvent,
} from "eventloom";
import { describe, expect, it } from "vitest";
import { z } from "zod";

const StreamEvent = defineEvent("StreamEvent", z.object({ sequence: z.number().int() }));

describe("defineEvent", () => {
  it("creates plain JSON-serializable events with a short type and the qualified name", () => {
    const ev = StreamEvent.create({ sequence: 1 });
    expect(ev).toEqual({ type: "StreamEvent", qualifiedName: "StreamEvent", data: { sequence: 1 } });
    expect(JSON.parse(JSON.stringify(ev))).toEqual(ev);
    const Named = defineEvent("my.app.MathEvent", z.object({}));
    expect(Named.type).toBe("MathEvent");
    expect(Named.create({}).type).toBe("MathEvent");
  });

  it("rejects invalid data with a validation error listing each issue by path", () => {
    const Nested = defineEvent("Nested", z.object({ user: z.object({ age: z.number() }), name: z.string() }));
    try {
      Nested.create({ user: { age: "x" }, name: 3 } as never);
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(EventValidationError);
      const e = error as EventValidationError;
      expect(e.code).toBe("VALIDATION_ERROR");
      expect(e.issues?.map((i) => i.path).sort()).toEqual(["name", "user.age"]);
    }
  });

  it("applies schema defaults", () => {
    const WithDefault = defineEvent("WithDefault", z.object({ n: z.number().default(7) }));
    expect(WithDefault.create({}).data.n).toBe(7);
  });

  it("rejects names that are not dotted identifiers", () => {
    expect(() => defineEvent("has space", z.object({}))).toThrow(/Invalid event name/);
    expect(() => defineEvent("", z.object({}))).toThrow(/Invalid event name/);
  });

  it("is() matches exactly this definition, not descendants", () => {
    const Out = defineEvent("Out", z.object({ output: z.string() }), { extends: StopEvent });
    const out = Out.create({ output: "x" });
    expect(Out.is(out)).toBe(true);
    expect(StopEvent.is(out)).toBe(false);
    expect(Out.is(null)).toBe(false);
    expect(Out.extends(StopEvent)).toBe(true);
    expect(StopEvent.extends(Out)).toBe(false);
  });

  it("records the lineage from the root event down", () => {
    const Out = defineEvent("app.Out", z.object({}), { extends: StopEvent });
    expect(Out.lineage).toEqual(["workflows.events.Event", "workflows.events.StopEvent", "app.Out"]);
    expect(StreamEvent.lineage).toEqual(["workflows.events.Event", "StreamEvent"]);
    expect(Event.lineage).toEqual(["workflows.events.Event"]);
  });

  it("names the built-ins workflows.events.<Name> with the spec's lineage", () => {
    expect(StartEvent.name).toBe("workflows.events.StartEvent");
    expect(StartEvent.create({ anything: 1, goes: "yes" }).data).toEqual({ anything: 1, goes: "yes" });
    expect(StopEvent.create({ result: { a: 1 } }).data.result).toEqual({ a: 1 });
    for (const d of [WorkflowFailedEvent, WorkflowTimedOutEvent, WorkflowCancelledEvent]) {
      expect(d.extends(StopEvent)).toBe(true);
    }
    expect(InputRequiredEvent.name).toBe("workflows.events.InputRequiredEvent");
    expect(HumanResponseEvent.name).toBe("workflows.events.HumanResponseEvent");
    expect(StepStateChanged.name).toBe("workflows.events.StepStateChanged");
    expect(WorkflowIdleEvent.name).toBe("workflows.events.WorkflowIdleEvent");
  });
});
