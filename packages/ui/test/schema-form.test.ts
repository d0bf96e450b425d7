import { describe, expect, it } from "vitest";
import { z } from "zod";
import {
  type Draft,
  draftFromValue,
  type Field,
  initialDraft,
  type JsonSchema,
  type ObjectDraft,
  readDraft,
  toField,
} from "../src/schema-form/index.js";

// The schemas come from zod, as the server's do: the form must understand what zod writes.
const schemaOf = (schema: z.ZodType) => z.toJSONSchema(schema) as JsonSchema;

const order = z.object({
  customer: z.string().min(2).describe("Who ordered"),
  quantity: z.number().int().min(1).default(1),
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
  note: z.union([z.string(), z.number()]).optional(),
});

function objectField(schema: z.ZodType): Extract<Field, { kind: "object" }> {
  const field = toField(schemaOf(schema));
  if (field.kind !== "object") throw new Error(`expected an object field, got ${field.kind}`);
  return field;
}

function withValues(field: Field, values: Record<string, Draft>): ObjectDraft {
  const draft = initialDraft(field, true) as ObjectDraft;
  return { ...draft, values: { ...draft.values, ...values } };
}

describe("toField", () => {
  it("models each property with its kind, whether it is required, its description and default", () => {
    const field = objectField(order);
    const byName = Object.fromEntries(field.properties.map((p) => [p.name, p]));
    expect(byName["customer"]).toMatchObject({
      required: true,
      field: { kind: "string", description: "Who ordered" },
    });
    expect(byName["quantity"]?.field).toMatchObject({
      kind: "number",
      integer: true,
      minimum: 1,
      default: 1,
    });
    expect(byName["express"]).toMatchObject({ required: false, field: { kind: "boolean" } });
    expect(byName["size"]?.field).toMatchObject({ kind: "enum", options: ["S", "M", "L"] });
    expect(byName["address"]).toMatchObject({ required: false, field: { kind: "object" } });
    expect(byName["tags"]?.field).toMatchObject({ kind: "array", items: { kind: "string" } });
    expect(byName["note"]?.field.kind).toBe("union");
    expect(field.extra).toBeNull();
  });

  it("drops zod's safe-integer bounds, which mean nothing to a person", () => {
    const field = toField(schemaOf(z.number().int()));
    expect(field).toMatchObject({ kind: "number", minimum: undefined, maximum: undefined });
  });

  it("treats a nullable type as that type that may also be null", () => {
    expect(toField(schemaOf(z.string().nullable()))).toMatchObject({ kind: "string", nullable: true });
    expect(toField(schemaOf(z.object({ a: z.number() }).nullable()))).toMatchObject({
      kind: "object",
      nullable: true,
    });
  });

  it("names a discriminated union's options by their constant field", () => {
    const shape = z.discriminatedUnion("kind", [
      z.object({ kind: z.literal("circle"), radius: z.number() }),
      z.object({ kind: z.literal("square"), side: z.number() }),
    ]);
    const field = toField(schemaOf(shape));
    expect(field.kind === "union" && field.options.map((o) => o.label)).toEqual([
      'kind: "circle"',
      'kind: "square"',
    ]);
  });

  it("lets an open object without declared fields take extra fields (the plain StartEvent)", () => {
    const field = objectField(z.looseObject({}));
    expect(field.properties).toEqual([]);
    expect(field.extra?.kind).toBe("any");
  });

  it("resolves $ref and falls back to raw JSON for what it cannot express", () => {
    const schema: JsonSchema = {
      type: "object",
      properties: { point: { $ref: "#/$defs/Point" }, pair: schemaOf(z.tuple([z.string(), z.number()])) },
      required: ["point"],
      $defs: { Point: { type: "object", properties: { x: { type: "number" } }, required: ["x"] } },
    };
    const field = toField(schema);
    expect(field.kind === "object" && field.properties.map((p) => p.field.kind)).toEqual(["object", "json"]);
  });

  it("stops at recursive schemas instead of looping", () => {
    const schema: JsonSchema = {
      $ref: "#/$defs/Node",
      $defs: {
        Node: {
          type: "object",
          properties: { child: { $ref: "#/$defs/Node" } },
          additionalProperties: false,
        },
      },
    };
    expect(toField(schema).kind).toBe("object");
  });
});

describe("readDraft", () => {
  const field = objectField(order);

  it("reads a filled form into the value, leaving unset optional fields out", () => {
    const draft = withValues(field, { customer: "Ada", size: 1 });
    expect(readDraft(field, draft)).toEqual({
      value: { customer: "Ada", quantity: 1, size: "M" },
      issues: [],
    });
  });

  it("explains every problem at its field's path, in words", () => {
    const draft = withValues(field, {
      customer: "A",
      quantity: "1.5",
      address: { values: { city: undefined, zip: "12" }, extras: [] },
    });
    expect(readDraft(field, draft).issues).toEqual([
      { path: "customer", message: "At least 2 characters" },
      { path: "quantity", message: "Enter a whole number" },
      { path: "size", message: "Required" },
      { path: "address.city", message: "Required" },
      { path: "address.zip", message: "Must match the pattern ^\\d{5}$" },
    ]);
  });

  it("rejects text that is not a number, and numbers out of range", () => {
    expect(readDraft(field, withValues(field, { customer: "Ada", size: 0, quantity: "12a" })).issues).toEqual(
      [{ path: "quantity", message: "Enter a whole number" }],
    );
    expect(readDraft(field, withValues(field, { customer: "Ada", size: 0, quantity: "0" })).issues).toEqual([
      { path: "quantity", message: "At least 1" },
    ]);
  });

  it("reads lists item by item and unions by their chosen option", () => {
    const draft = withValues(field, {
      customer: "Ada",
      size: 2,
      tags: ["a", undefined],
      note: { option: 1, value: "3" },
    });
    const read = readDraft(field, draft);
    expect(read.issues).toEqual([{ path: "tags.1", message: "Required" }]);
    const fixed = readDraft(field, { ...draft, values: { ...draft.values, tags: ["a", "b"] } });
    expect(fixed.value).toMatchObject({ tags: ["a", "b"], note: 3 });
  });

  it("reads extra fields of an open object as text, or as JSON when they are JSON", () => {
    const open = objectField(z.looseObject({}));
    const draft: ObjectDraft = {
      values: {},
      extras: [
        { key: "name", value: "Ada" },
        { key: "count", value: "3" },
        { key: "", value: "x" },
      ],
    };
    expect(readDraft(open, draft)).toEqual({
      value: { name: "Ada", count: 3 },
      issues: [{ path: "#3", message: "Name the field" }],
    });
  });

  it("reports raw JSON that does not parse", () => {
    const read = readDraft(toField(schemaOf(z.tuple([z.string()]))), "[oops", true);
    expect(read.issues).toEqual([{ path: "", message: expect.stringMatching(/^Not valid JSON/) }]);
  });

  it("sends null for a required nullable field left empty", () => {
    const nullable = objectField(z.object({ when: z.string().nullable() }));
    expect(readDraft(nullable, { values: {}, extras: [] }).value).toEqual({ when: null });
  });
});

describe("draftFromValue", () => {
  it("round-trips a value through the form unchanged", () => {
    const field = objectField(order);
    const value = {
      customer: "Ada",
      quantity: 3,
      express: true,
      size: "L",
      address: { city: "Paris", zip: "75001" },
      tags: ["x"],
      note: "hi",
    };
    expect(readDraft(field, draftFromValue(field, value))).toEqual({ value, issues: [] });
  });

  it("picks the union option a value fits", () => {
    const field = toField(schemaOf(z.union([z.object({ a: z.string() }), z.object({ b: z.number() })])));
    expect(draftFromValue(field, { b: 2 })).toMatchObject({ option: 1 });
  });

  it("starts a field from its default", () => {
    const field = objectField(z.object({ greeting: z.string().default("Hello") }));
    expect(readDraft(field, initialDraft(field, true)).value).toEqual({ greeting: "Hello" });
  });
});
