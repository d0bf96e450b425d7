import type { PublishedEvent } from "eventloom";
import {
  type Envelope,
  EnvelopeJsonWriter,
  EnvelopeSchema,
  envelopeFromJson,
  fromEnvelope,
  PublishedJsonWriter,
  toEnvelope,
} from "eventloom/protocol";
import fc from "fast-check";
import { describe, expect, it } from "vitest";

// Few names, so that a writer meets the same kind again, sometimes with another type or lineage.
const name = fc.constantFrom("A", "B", "x.A", 'é\u2028"q\\', "\ud800");
const published: fc.Arbitrary<PublishedEvent> = fc.record({
  sequence: fc.oneof(fc.nat(), fc.constantFrom(-0, 1.5, 1e21, Number.NaN)),
  type: name,
  qualifiedName: name,
  types: fc.array(name, { maxLength: 3 }),
  value: fc.oneof(
    fc.dictionary(
      fc.string().filter((k) => k !== "__proto__"),
      fc.jsonValue(),
    ),
    fc.constantFrom(undefined, null, { toJSON: (key: string) => ({ key }) }, { at: new Date(0) }),
  ) as fc.Arbitrary<Record<string, unknown>>,
  internal: fc.boolean(),
  timestamp: fc.oneof(
    fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
    fc.constant(undefined as unknown as string),
  ),
});

describe("EnvelopeJsonWriter", () => {
  it("writes exactly what JSON.stringify(toEnvelope(...)) writes, event after event", () => {
    fc.assert(
      fc.property(fc.array(published, { maxLength: 20 }), fc.boolean(), (events, includeQualifiedName) => {
        const writer = new EnvelopeJsonWriter({ includeQualifiedName });
        for (const event of events) {
          expect(writer.write(event)).toBe(JSON.stringify(toEnvelope(event, { includeQualifiedName })));
        }
      }),
      { numRuns: 500 },
    );
  });

  it("cuts from an event's stored JSON exactly the envelope of the parsed event, or declines", () => {
    const values = fc.dictionary(
      fc.string(),
      fc.oneof(fc.jsonValue(), fc.constantFrom(',"internal":true', ',"value":1', '"}', "\\")),
    );
    const stored = fc.record({
      sequence: fc.nat(),
      type: name,
      qualifiedName: name,
      types: fc.array(fc.oneof(name, fc.constant("workflows.events.StopEvent")), { maxLength: 3 }),
      value: values,
      internal: fc.boolean(),
      timestamp: fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
    });
    fc.assert(
      fc.property(fc.array(stored, { maxLength: 20 }), fc.boolean(), (events, includeQualifiedName) => {
        const writer = new EnvelopeJsonWriter({ includeQualifiedName });
        for (const event of events) {
          const json = JSON.stringify(event);
          const parsed = JSON.parse(json) as PublishedEvent;
          const frame = writer.writeStored(event.sequence, json);
          expect(frame).not.toBeNull();
          expect(frame).toEqual({
            json: JSON.stringify(toEnvelope(parsed, { includeQualifiedName })),
            internal: event.internal,
            terminal: event.types.includes("workflows.events.StopEvent"),
          });
        }
      }),
      { numRuns: 500 },
    );
  });

  it("declines stored text in any other form: the stream parses it instead", () => {
    const writer = new EnvelopeJsonWriter();
    const event = {
      sequence: 1,
      type: "A",
      qualifiedName: "A",
      types: ["A"],
      value: { a: 1 },
      internal: false,
      timestamp: "2024-10-21T14:32:15.123Z",
    };
    const { type, ...rest } = event;
    for (const json of [
      JSON.stringify({ ...rest, type }), // keys in another order
      JSON.stringify({ ...event, extra: 1 }),
      JSON.stringify({ ...event, value: null }),
      JSON.stringify(event, null, 1),
      "not json",
    ]) {
      expect(writer.writeStored(1, json)).toBeNull();
    }
    expect(writer.writeStored(2, JSON.stringify(event))).toBeNull(); // another sequence than the row's
  });

  it("includes the qualified name by default", () => {
    const event: PublishedEvent = {
      sequence: 3,
      type: "StopEvent",
      qualifiedName: "workflows.events.StopEvent",
      types: ["workflows.events.Event", "workflows.events.StopEvent"],
      value: { result: 1 },
      internal: false,
      timestamp: "2024-10-21T14:32:15.123Z",
    };
    expect(new EnvelopeJsonWriter().write(event)).toBe(
      '{"value":{"result":1},"type":"StopEvent","types":["workflows.events.Event","workflows.events.StopEvent"],' +
        '"sequence":3,"timestamp":"2024-10-21T14:32:15.123Z","qualified_name":"workflows.events.StopEvent"}',
    );
  });
});

// Well-formed envelopes, and ones with one field replaced or dropped, as JSON.parse gives them.
const wellFormed = fc.record(
  {
    value: fc.dictionary(fc.string(), fc.jsonValue()),
    qualified_name: fc.string(),
    type: fc.string(),
    types: fc.array(fc.string(), { maxLength: 3 }),
    sequence: fc.nat(),
    timestamp: fc.string(),
    extra: fc.jsonValue(),
  },
  { requiredKeys: ["value", "type", "types", "sequence"] },
);
const odd = fc.oneof(
  fc.jsonValue(),
  fc.constantFrom(undefined, -1, 1.5, 2 ** 53, "x", ["a", 1], JSON.parse('{"__proto__":{"a":1}}')),
);
const envelopeLike = fc
  .tuple(
    wellFormed,
    fc.constantFrom("none", "value", "qualified_name", "type", "types", "sequence", "timestamp"),
    odd,
  )
  .map(([e, key, v]) => (key === "none" ? e : { ...e, [key]: v }))
  .map((e) => JSON.parse(JSON.stringify(e)) as unknown);

describe("envelopeFromJson", () => {
  it("accepts only what EnvelopeSchema accepts, with the same result as fromEnvelope", () => {
    fc.assert(
      fc.property(fc.oneof(envelopeLike, fc.jsonValue()), (json) => {
        const fast = envelopeFromJson(json);
        const parsed = EnvelopeSchema.safeParse(json);
        if (fast !== null) {
          expect(parsed.success).toBe(true);
          expect(fast).toEqual(fromEnvelope(parsed.data as Envelope));
        }
      }),
      { numRuns: 2000 },
    );
  });

  it("accepts every envelope the server writes", () => {
    fc.assert(
      fc.property(published, fc.boolean(), (event, includeQualifiedName) => {
        fc.pre(event.value != null && typeof event.sequence === "number" && event.sequence >= 0);
        const json = JSON.parse(new EnvelopeJsonWriter({ includeQualifiedName }).write(event));
        fc.pre(EnvelopeSchema.safeParse(json).success);
        expect(envelopeFromJson(json)).toEqual(fromEnvelope(EnvelopeSchema.parse(json)));
      }),
      { numRuns: 500 },
    );
  });
});

describe("PublishedJsonWriter", () => {
  it("writes exactly what JSON.stringify writes, event after event", () => {
    fc.assert(
      fc.property(fc.array(published, { maxLength: 20 }), (events) => {
        const writer = new PublishedJsonWriter();
        for (const event of events) expect(writer.write(event)).toBe(JSON.stringify(event));
      }),
      { numRuns: 500 },
    );
  });

  it("writes what EnvelopeJsonWriter.writeStored cuts envelopes from", () => {
    const event: PublishedEvent = {
      sequence: 7,
      type: "Tick",
      qualifiedName: "app.Tick",
      types: ["workflows.events.Event", "app.Tick"],
      value: { i: 1, nested: { internal: true } },
      internal: false,
      timestamp: "2024-10-21T14:32:15.123Z",
    };
    const stored = new PublishedJsonWriter().write(event);
    expect(new EnvelopeJsonWriter().writeStored(7, stored)).toEqual({
      json: JSON.stringify(toEnvelope(event)),
      internal: false,
      terminal: false,
    });
  });
});
