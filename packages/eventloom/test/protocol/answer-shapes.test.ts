// The client checks answers with the zod-free shapes of answer-shapes.ts; the server and the OpenAPI
// document use the zod schemas of wire.ts. These tests hold the two to the same verdicts and results.

import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { z } from "zod";
import * as shapes from "../../src/protocol/answer-shapes.js";
import { checkShape, type Shape } from "../../src/protocol/shape.js";
import * as wire from "../../src/protocol/wire.js";
import { HANDLER_STATUSES, ISO_TIMESTAMP } from "../../src/protocol/wire-values.js";

const timestamp = fc
  .date({ min: new Date("0000-01-01T00:00:00Z"), max: new Date("9999-12-31T23:59:59Z"), noInvalidDate: true })
  .map((d) => d.toISOString());
// near misses: a valid timestamp with one character replaced, and dates that do not exist
const oddTimestamp = fc.oneof(
  fc
    .tuple(timestamp, fc.nat(), fc.constantFrom("0", "2", "9", "3", "Z", "+", " ", ".", ""))
    .map(([t, i, c]) => t.slice(0, i % t.length) + c + t.slice((i % t.length) + 1)),
  fc.constantFrom(
    "2023-02-29T00:00:00Z",
    "2024-02-29T00:00:00Z",
    "1900-02-29T00:00:00Z",
    "2000-02-29T00:00:00Z",
    "2024-04-31T00:00:00Z",
    "2024-01-01T24:00:00Z",
    "2024-01-01T00:00Z",
    "2024-01-01T00:00:00+00:00",
    "2024-01-01T00:00:00.Z",
  ),
);
const text = fc.oneof(fc.string({ maxLength: 8 }), fc.constantFrom("__proto__", "constructor", ""));
const jsonObject = fc.dictionary(text, fc.jsonValue({ maxDepth: 2 }), { maxKeys: 4 });

const handlerData = fc.record({
  handler_id: text,
  workflow_name: text,
  run_id: text,
  status: fc.constantFrom(...HANDLER_STATUSES),
  result: fc.jsonValue({ maxDepth: 2 }),
  error: fc.option(text),
  started_at: timestamp,
  updated_at: timestamp,
  completed_at: fc.option(timestamp),
});

const graphNode = fc.oneof(
  fc.record({ id: text, label: text, node_type: fc.constantFrom("step", "external") }),
  fc.record({
    id: text,
    label: text,
    node_type: fc.constant("event"),
    event_type: text,
    event_types: fc.array(text, { maxLength: 3 }),
    event_schema: jsonObject,
  }),
);

/** Each shape with its zod schema and answers the server may send. */
const pairs: [string, Shape<unknown>, z.ZodType, fc.Arbitrary<unknown>][] = [
  ["HandlerData", shapes.HandlerDataShape, wire.HandlerDataSchema, handlerData],
  [
    "HandlerList",
    shapes.HandlerListShape,
    wire.HandlerListSchema,
    fc.record({ handlers: fc.array(handlerData, { maxLength: 3 }), next_cursor: fc.option(text) }),
  ],
  [
    "RunNowaitResponse",
    shapes.RunNowaitResponseShape,
    wire.RunNowaitResponseSchema,
    fc.record({
      handler_id: text,
      status: fc.constant("started"),
      workflow_name: text,
      run_id: text,
      started_at: timestamp,
    }),
  ],
  [
    "Envelope",
    shapes.EnvelopeShape,
    wire.EnvelopeSchema,
    fc.record(
      {
        value: jsonObject,
        qualified_name: text,
        type: text,
        types: fc.array(text, { maxLength: 3 }),
        sequence: fc.oneof(fc.nat(), fc.constant(Number.MAX_SAFE_INTEGER)),
        timestamp,
      },
      { requiredKeys: ["value", "type", "types", "sequence"] },
    ),
  ],
  [
    "SendEventResponse",
    shapes.SendEventResponseShape,
    wire.SendEventResponseSchema,
    fc.constant({ status: "sent" }),
  ],
  [
    "CancelResponse",
    shapes.CancelResponseShape,
    wire.CancelResponseSchema,
    fc.record({ status: fc.constantFrom("cancelled", "deleted") }),
  ],
  [
    "Health",
    shapes.HealthShape,
    wire.HealthSchema,
    fc.record({ status: fc.constantFrom("healthy", "unhealthy") }),
  ],
  [
    "WorkflowList",
    shapes.WorkflowListShape,
    wire.WorkflowListSchema,
    fc.record({ workflows: fc.array(text, { maxLength: 3 }) }),
  ],
  [
    "ErrorBody",
    shapes.ErrorBodyShape,
    wire.ErrorBodySchema,
    fc.record(
      {
        detail: text,
        code: text,
        issues: fc.array(fc.record({ path: text, message: text }), { maxLength: 2 }),
      },
      { requiredKeys: ["detail", "code"] },
    ),
  ],
  [
    "WorkflowSchemaResponse",
    shapes.WorkflowSchemaResponseShape,
    wire.WorkflowSchemaResponseSchema,
    fc.record({ start: jsonObject, stop: jsonObject }),
  ],
  [
    "WorkflowEventsResponse",
    shapes.WorkflowEventsResponseShape,
    wire.WorkflowEventsResponseSchema,
    fc.record({ events: fc.array(jsonObject, { maxLength: 3 }) }),
  ],
  [
    "Representation",
    shapes.RepresentationShape,
    wire.RepresentationSchema,
    fc.record({
      graph: fc.record({
        name: text,
        nodes: fc.array(graphNode, { maxLength: 3 }),
        edges: fc.array(fc.record({ source: text, target: text }), { maxLength: 3 }),
      }),
    }),
  ],
];

type Edit = "replace" | "delete" | "add";

/** `value` with one edit at the place that `steps` leads to (each step picks a child by index). */
function mutate(value: unknown, steps: number[], edit: Edit, other: unknown): unknown {
  const isContainer = typeof value === "object" && value !== null;
  const keys = isContainer ? Object.keys(value) : [];
  if (steps.length === 0 || keys.length === 0) {
    if (edit === "replace" || !isContainer) return other;
    if (Array.isArray(value)) return edit === "add" ? [...value, other] : value.slice(1);
    const copy: Record<string, unknown> = { ...(value as Record<string, unknown>) };
    if (edit === "add") copy["extra"] = other;
    else delete copy[keys[0]!];
    return copy;
  }
  const key = keys[steps[0]! % keys.length]!;
  const child = mutate((value as Record<string, unknown>)[key], steps.slice(1), edit, other);
  if (Array.isArray(value)) return value.map((v, i) => (String(i) === key ? child : v));
  return { ...(value as Record<string, unknown>), [key]: child };
}

const other = fc.oneof(
  fc.jsonValue({ maxDepth: 1 }),
  text,
  timestamp,
  oddTimestamp,
  fc.constantFrom(-1, 1.5, 2 ** 53, -0, "started", "sent", "event", "step", "running", "bogus"),
);

describe("the client's answer shapes", () => {
  it("use exactly the timestamp pattern of the wire schemas", () => {
    const def = wire.HandlerDataSchema.shape.started_at._zod.def as { pattern?: RegExp };
    expect(ISO_TIMESTAMP.source).toBe(def.pattern?.source);
  });

  it("accept every timestamp the schemas accept, and only those", () => {
    fc.assert(
      fc.property(fc.oneof(timestamp, oddTimestamp), (t) => {
        const answer = { handler_id: "h", status: "started", workflow_name: "w", run_id: "r", started_at: t };
        expect(checkShape(shapes.RunNowaitResponseShape, answer).ok).toBe(
          wire.RunNowaitResponseSchema.safeParse(answer).success,
        );
      }),
      { numRuns: 1000 },
    );
  });

  for (const [name, shape, schema, valid] of pairs) {
    it(`${name}: accepts what the zod schema accepts, with the same result, and rejects the rest`, () => {
      const edited = fc
        .tuple(
          valid,
          fc.array(fc.nat(), { maxLength: 4 }),
          fc.constantFrom<Edit>("replace", "delete", "add"),
          other,
        )
        .map(([v, steps, edit, o]) => mutate(v, steps, edit, o));
      fc.assert(
        fc.property(fc.oneof(valid, edited, fc.jsonValue({ maxDepth: 2 })), (candidate) => {
          // the answers arrive as JSON text
          const json: unknown = JSON.parse(JSON.stringify(candidate));
          const parsed = schema.safeParse(json);
          const checked = checkShape(shape, json);
          expect(checked.ok).toBe(parsed.success);
          if (checked.ok && parsed.success) expect(checked.value).toEqual(parsed.data);
        }),
        { numRuns: 400 },
      );
    });
  }

  it("name the place of the first problem", () => {
    const data = { ...fc.sample(handlerData, { numRuns: 1, seed: 1 })[0]!, started_at: "yesterday" };
    const list = checkShape(shapes.HandlerListShape, { handlers: [data], next_cursor: null });
    expect(list.ok ? "" : list.error.message).toBe(
      "handlers.0.started_at: expected an ISO 8601 UTC timestamp, received string",
    );
    const missing = checkShape(shapes.WorkflowListShape, {});
    expect(missing.ok ? "" : missing.error.message).toBe("workflows: missing");
    const top = checkShape(shapes.HealthShape, []);
    expect(top.ok ? "" : top.error.message).toBe("(body): expected object, received array");
    const node = checkShape(shapes.RepresentationShape, {
      graph: { name: "g", nodes: [{ id: "a", label: "a", node_type: "router" }], edges: [] },
    });
    expect(node.ok ? "" : node.error.message).toBe(
      "graph.nodes.0.node_type: expected one of step|event|external, received string",
    );
  });
});
