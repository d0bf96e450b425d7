import { isSchemaObject, type JsonSchema } from "./json-schema.js";

interface FieldBase {
  title: string | undefined;
  description: string | undefined;
  /** The schema's `default`, when it has one. */
  default: unknown;
  /** The schema also allows `null`. */
  nullable: boolean;
}

export interface StringField extends FieldBase {
  kind: "string";
  format: string | undefined;
  minLength: number | undefined;
  maxLength: number | undefined;
  pattern: string | undefined;
}

export interface NumberField extends FieldBase {
  kind: "number";
  integer: boolean;
  minimum: number | undefined;
  maximum: number | undefined;
  exclusiveMinimum: number | undefined;
  exclusiveMaximum: number | undefined;
}

export interface BooleanField extends FieldBase {
  kind: "boolean";
}

/** A choice among fixed JSON values (`enum`, `const`). */
export interface EnumField extends FieldBase {
  kind: "enum";
  options: unknown[];
}

export interface Property {
  name: string;
  field: Field;
  required: boolean;
}

export interface ObjectField extends FieldBase {
  kind: "object";
  properties: Property[];
  /** The field of each extra key the object allows (`additionalProperties`), or null when it allows none. */
  extra: Field | null;
}

export interface ArrayField extends FieldBase {
  kind: "array";
  items: Field;
  minItems: number | undefined;
  maxItems: number | undefined;
}

export interface UnionOption {
  label: string;
  field: Field;
}

export interface UnionField extends FieldBase {
  kind: "union";
  options: UnionOption[];
}

/** Any JSON value: typed as text, read as JSON when it parses as a number, object, array, boolean or null. */
export interface AnyField extends FieldBase {
  kind: "any";
}

/** What the form cannot express (tuples, `allOf`, recursion): edited as raw JSON. */
export interface JsonField extends FieldBase {
  kind: "json";
}

export type Field =
  | StringField
  | NumberField
  | BooleanField
  | EnumField
  | ObjectField
  | ArrayField
  | UnionField
  | AnyField
  | JsonField;

const MAX_DEPTH = 8;

/**
 * Turns a JSON Schema into the model the form renders and validates with.
 * `$ref`s are resolved against the root; recursion deeper than a few levels becomes a raw JSON field.
 */
export function toField(
  schema: JsonSchema | boolean,
  root: JsonSchema = isSchemaObject(schema) ? schema : {},
): Field {
  return build(schema, root, 0);
}

function build(input: JsonSchema | boolean, root: JsonSchema, depth: number): Field {
  const schema = resolve(input === true ? {} : input === false ? { not: {} } : input, root);
  const base: FieldBase = {
    title: schema.title,
    description: schema.description,
    default: schema.default,
    nullable: false,
  };
  if (depth > MAX_DEPTH || "not" in schema) return { ...base, kind: "json" };

  if (schema.const !== undefined) return { ...base, kind: "enum", options: [schema.const] };
  if (Array.isArray(schema.enum)) {
    const options = schema.enum.filter((v) => v !== null);
    return { ...base, nullable: options.length < schema.enum.length, kind: "enum", options };
  }

  const alternatives = schema.anyOf ?? schema.oneOf;
  if (alternatives) {
    const nonNull = alternatives.filter((alt) => !isNullSchema(resolve(alt, root)));
    const nullable = nonNull.length < alternatives.length;
    if (nonNull.length === 1) {
      const inner = build(nonNull[0]!, root, depth);
      return withBase(inner, base, nullable);
    }
    const options = nonNull.map((alt, i) => {
      const field = build(alt, root, depth + 1);
      return { label: optionLabel(resolve(alt, root), field, i), field };
    });
    return { ...base, nullable, kind: "union", options };
  }
  if (schema.allOf) return { ...base, kind: "json" };

  const types = typeof schema.type === "string" ? [schema.type] : (schema.type ?? []);
  const nonNullTypes = types.filter((t) => t !== "null");
  const nullable = nonNullTypes.length < types.length;
  if (nonNullTypes.length > 1) {
    const options = nonNullTypes.map((type) => {
      const field = build(
        { ...schema, type, title: undefined, description: undefined, default: undefined },
        root,
        depth + 1,
      );
      return { label: type, field };
    });
    return { ...base, nullable, kind: "union", options };
  }

  const b = { ...base, nullable };
  switch (nonNullTypes[0]) {
    case "string":
      return {
        ...b,
        kind: "string",
        format: schema.format,
        minLength: schema.minLength,
        maxLength: schema.maxLength,
        pattern: schema.pattern,
      };
    case "number":
    case "integer":
      return {
        ...b,
        kind: "number",
        integer: nonNullTypes[0] === "integer",
        minimum: meaningfulBound(schema.minimum),
        maximum: meaningfulBound(schema.maximum),
        exclusiveMinimum: schema.exclusiveMinimum,
        exclusiveMaximum: schema.exclusiveMaximum,
      };
    case "boolean":
      return { ...b, kind: "boolean" };
    case "object":
      return buildObject(schema, root, depth, b);
    case "array":
      if (schema.prefixItems || !isSchemaObject(schema.items)) return { ...b, kind: "json" };
      return {
        ...b,
        kind: "array",
        items: build(schema.items, root, depth + 1),
        minItems: schema.minItems,
        maxItems: schema.maxItems,
      };
    case undefined:
      if (schema.properties) return buildObject(schema, root, depth, b);
      return { ...b, kind: nullable ? "json" : "any" };
    default:
      return { ...b, kind: "json" };
  }
}

function buildObject(schema: JsonSchema, root: JsonSchema, depth: number, base: FieldBase): ObjectField {
  const required = new Set(schema.required ?? []);
  const properties = Object.entries(schema.properties ?? {}).map(([name, sub]) => ({
    name,
    field: build(sub, root, depth + 1),
    required: required.has(name),
  }));
  const additional = schema.additionalProperties;
  // JSON Schema allows extra keys unless told otherwise; an object without declared fields invites them.
  const extra =
    additional === false || (additional === undefined && properties.length > 0)
      ? null
      : isSchemaObject(additional)
        ? build(additional, root, depth + 1)
        : anyField();
  return { ...base, kind: "object", properties, extra };
}

function anyField(): AnyField {
  return { kind: "any", title: undefined, description: undefined, default: undefined, nullable: false };
}

function withBase(inner: Field, outer: FieldBase, nullable: boolean): Field {
  return {
    ...inner,
    title: outer.title ?? inner.title,
    description: outer.description ?? inner.description,
    default: outer.default !== undefined ? outer.default : inner.default,
    nullable: nullable || inner.nullable,
  };
}

function resolve(schema: JsonSchema, root: JsonSchema, seen = 0): JsonSchema {
  if (!schema.$ref || seen > 16) return schema;
  const match = /^#\/(\$defs|definitions)\/(.+)$/.exec(schema.$ref);
  const defs = match?.[1] === "definitions" ? root.definitions : root.$defs;
  const target = match ? defs?.[decodeURIComponent(match[2]!)] : schema.$ref === "#" ? root : undefined;
  if (!target) return { description: schema.description };
  const { $ref: _ref, ...rest } = schema;
  return resolve({ ...target, ...rest }, root, seen + 1);
}

function isNullSchema(schema: JsonSchema): boolean {
  return schema.type === "null" || (schema.const === null && schema.type === undefined);
}

function optionLabel(schema: JsonSchema, field: Field, index: number): string {
  if (schema.title) return schema.title;
  if (field.kind === "object") {
    // A discriminated union names its options by their constant field, e.g. `kind: "circle"`.
    const discriminator = field.properties.find(
      (p) => p.field.kind === "enum" && p.field.options.length === 1,
    );
    if (discriminator && discriminator.field.kind === "enum") {
      return `${discriminator.name}: ${JSON.stringify(discriminator.field.options[0])}`;
    }
    return `object ${index + 1}`;
  }
  if (field.kind === "enum") return field.options.map((o) => JSON.stringify(o)).join(" | ");
  if (field.kind === "number") return field.integer ? "integer" : "number";
  return field.kind;
}

// zod writes the safe-integer range as the bounds of every `.int()`: they mean nothing to a person.
function meaningfulBound(bound: number | undefined): number | undefined {
  return bound !== undefined && Math.abs(bound) >= Number.MAX_SAFE_INTEGER ? undefined : bound;
}
