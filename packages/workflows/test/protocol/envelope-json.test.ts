import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { PublishedEvent } from "workflows";
import {
  type Envelope,
  EnvelopeJsonWriter,
  EnvelopeSchema,
  envelopeFromJson,
  fromEnvelope,
  toEnvelope,
} from "workflows/protocol";

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
