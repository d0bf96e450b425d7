import {
  defineEvent,
  EventValidationError,
  HumanResponseEvent,
  StartEvent,
  StopEvent,
  WorkflowError,
} from "eventloom";
import { decodeIncomingEvent, decodeStartEvent, eventResolver, toIncomingEvent } from "eventloom/protocol";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { z } from "zod";

const ResponseEvent = defineEvent("ResponseEvent", z.object({ response: z.string() }), {
  extends: HumanResponseEvent,
});
const HumanFeedbackEvent = defineEvent(
  "__main__.HumanFeedbackEvent",
  z.object({ feedback: z.string(), approved: z.boolean() }),
);
const NameStart = defineEvent("NameStart", z.object({ name: z.string() }), { extends: StartEvent });
const resolve = eventResolver([ResponseEvent, HumanFeedbackEvent, StopEvent]);

function thrown(fn: () => unknown): WorkflowError {
  try {
    fn();
  } catch (error) {
    if (error instanceof WorkflowError) return error;
    throw error;
  }
  throw new Error("expected a WorkflowError");
}

describe("decodeIncomingEvent", () => {
  const expected = { type: "ResponseEvent", qualifiedName: "ResponseEvent", data: { response: "Ada" } };

  it("accepts {type,value}, {type,data} and the seed's {__is_pydantic,value,qualified_name}", () => {
    expect(
      decodeIncomingEvent({ type: "ResponseEvent", value: { response: "Ada" } }, resolve, "event"),
    ).toEqual(expected);
    expect(
      decodeIncomingEvent({ type: "ResponseEvent", data: { response: "Ada" } }, resolve, "event"),
    ).toEqual(expected);
    const seed = {
      __is_pydantic: true,
      value: { feedback: "This is great!", approved: true },
      qualified_name: "__main__.HumanFeedbackEvent",
    };
    expect(decodeIncomingEvent(seed, resolve, "event")).toEqual({
      type: "HumanFeedbackEvent",
      qualifiedName: "__main__.HumanFeedbackEvent",
      data: { feedback: "This is great!", approved: true },
    });
  });

  it("accepts each form as a JSON string", () => {
    expect(
      decodeIncomingEvent('{"type":"ResponseEvent","value":{"response":"Ada"}}', resolve, "event"),
    ).toEqual(expected);
    expect(
      decodeIncomingEvent('{"type":"ResponseEvent","data":{"response":"Ada"}}', resolve, "event"),
    ).toEqual(expected);
    expect(
      decodeIncomingEvent(
        '{"__is_pydantic":true,"value":{"response":"Ada"},"qualified_name":"__main__.ResponseEvent"}',
        resolve,
        "event",
      ),
    ).toEqual(expected);
  });

  it("matches a qualified name by its part after the last dot", () => {
    const decoded = decodeIncomingEvent(
      { qualified_name: "my.module.ResponseEvent", value: { response: "x" } },
      resolve,
      "event",
    );
    expect(decoded.qualifiedName).toBe("ResponseEvent");
  });

  it("decodes what toIncomingEvent encodes", () => {
    const event = ResponseEvent.create({ response: "Ada" });
    expect(decodeIncomingEvent(JSON.parse(JSON.stringify(toIncomingEvent(event))), resolve, "event")).toEqual(
      event,
    );
  });

  it("rejects an unknown type with UNKNOWN_EVENT and an issue at the type", () => {
    const error = thrown(() => decodeIncomingEvent({ type: "Nope", value: {} }, resolve, "event"));
    expect(error.code).toBe("UNKNOWN_EVENT");
    expect(error.issues).toEqual([{ path: "event.type", message: 'Unknown event type "Nope"' }]);
    // the detail says how an awaited event gets declared
    expect(error.message).toBe(
      'Unknown event type "Nope": the workflow does not declare it (a step that awaits it with ctx.waitForEvent declares it with waitsFor: [Nope])',
    );
  });

  it("rejects an invalid value with VALIDATION_ERROR and issues under the value", () => {
    const error = thrown(() =>
      decodeIncomingEvent({ type: "ResponseEvent", value: { response: 3 } }, resolve, "event"),
    );
    expect(error).toBeInstanceOf(EventValidationError);
    expect(error.code).toBe("VALIDATION_ERROR");
    expect(error.issues?.[0]?.path).toBe("event.value.response");
    const viaData = thrown(() => decodeIncomingEvent({ type: "ResponseEvent", data: {} }, resolve, "event"));
    expect(viaData.issues?.[0]?.path).toBe("event.data.response");
  });

  it("rejects malformed JSON, non-objects and nameless objects with INVALID_BODY", () => {
    for (const raw of ["{nope", "[]", 5, null, [], { value: {} }, { type: "ResponseEvent", value: "x" }]) {
      const error = thrown(() => decodeIncomingEvent(raw, resolve, "event"));
      expect(error.code).toBe("INVALID_BODY");
      expect(error.issues?.[0]?.path).toMatch(/^event/);
    }
  });

  it("rejects a __proto__ key at any depth without touching Object.prototype", () => {
    const raw = '{"type":"ResponseEvent","value":{"response":"x","nested":{"__proto__":{"polluted":true}}}}';
    const error = thrown(() => decodeIncomingEvent(raw, resolve, "event"));
    expect(error.code).toBe("INVALID_BODY");
    expect(error.issues?.[0]?.path).toBe("event.value.nested.__proto__");
    expect(({} as { polluted?: unknown }).polluted).toBeUndefined();
  });

  it("resolves an ambiguous short type to nothing rather than guessing", () => {
    const A = defineEvent("a.Same", z.object({}));
    const B = defineEvent("b.Same", z.object({}));
    const both = eventResolver([A, B]);
    expect(thrown(() => decodeIncomingEvent({ type: "Same", value: {} }, both, "event")).code).toBe(
      "UNKNOWN_EVENT",
    );
    expect(decodeIncomingEvent({ qualified_name: "b.Same", value: {} }, both, "event").qualifiedName).toBe(
      "b.Same",
    );
  });
});

describe("decodeStartEvent", () => {
  it("reads a missing start event as the start event with no fields", () => {
    expect(decodeStartEvent(undefined, StartEvent, resolve)).toEqual(StartEvent.create({}));
    expect(thrown(() => decodeStartEvent(undefined, NameStart, resolve)).issues?.[0]?.path).toBe(
      "start_event.name",
    );
  });

  it("reads a bare object of fields as the start event", () => {
    expect(decodeStartEvent({ name: "John" }, NameStart, resolve)).toEqual(
      NameStart.create({ name: "John" }),
    );
    expect(decodeStartEvent('{"name":"John"}', StartEvent, resolve).data).toEqual({ name: "John" });
    expect(decodeStartEvent({ type: "free text", extra: 1 }, StartEvent, resolve).data).toEqual({
      type: "free text",
      extra: 1,
    });
  });

  it("reads the event forms, including what the client sends for StartEvent.create", () => {
    const start = StartEvent.create({ name: "John" });
    expect(decodeStartEvent(toIncomingEvent(start), StartEvent, resolve)).toEqual(start);
    expect(decodeStartEvent({ type: "NameStart", data: { name: "Ada" } }, NameStart, resolve).data).toEqual({
      name: "Ada",
    });
    expect(decodeStartEvent({ type: "StartEvent" }, StartEvent, () => undefined)).toEqual(
      StartEvent.create({}),
    );
  });

  it("rejects an event that is not the workflow's start event, and wrong fields with issues", () => {
    const other = thrown(() =>
      decodeStartEvent({ type: "ResponseEvent", value: { response: "x" } }, StartEvent, resolve),
    );
    expect(other.code).toBe("INVALID_BODY");
    const wrong = thrown(() => decodeStartEvent({ name: 5 }, NameStart, resolve));
    expect(wrong.code).toBe("VALIDATION_ERROR");
    expect(wrong.issues).toEqual([{ path: "start_event.name", message: expect.any(String) }]);
  });
});

describe("decoding anything a client may send", () => {
  const anything = fc.oneof(
    fc.jsonValue(),
    fc.json(),
    fc.string(),
    fc.record({
      type: fc.oneof(
        fc.constantFrom("ResponseEvent", "StopEvent", "workflows.events.StopEvent"),
        fc.string(),
      ),
      value: fc.jsonValue(),
    }),
    fc.record({ qualified_name: fc.string(), data: fc.jsonValue(), __is_pydantic: fc.boolean() }),
  );

  it("either decodes or throws a WorkflowError with issues, never anything else", () => {
    fc.assert(
      fc.property(anything, (raw) => {
        for (const decode of [
          () => decodeIncomingEvent(raw, resolve, "event"),
          () => decodeStartEvent(raw, NameStart, resolve),
          () => decodeStartEvent(raw, StartEvent, resolve),
        ]) {
          try {
            const event = decode();
            expect(typeof event.qualifiedName).toBe("string");
          } catch (error) {
            expect(error).toBeInstanceOf(WorkflowError);
            expect((error as WorkflowError).issues?.length).toBeGreaterThan(0);
          }
        }
      }),
      { numRuns: 500 },
    );
  });
});
