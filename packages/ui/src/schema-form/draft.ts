import type { Field } from "./field-model.js";

/**
 * What a person has typed so far, shaped like the field it edits. `undefined` means "not set".
 * Leaves keep raw text (a number field holds "12a" until it is fixed); `readDraft` turns a draft
 * into a JSON value and explains what is wrong with it.
 */
export type Draft = undefined | string | boolean | number | Draft[] | ObjectDraft | UnionDraft;

export interface ObjectDraft {
  values: Record<string, Draft>;
  /** Extra keys, for objects that allow them. */
  extras: ExtraEntry[];
}

export interface ExtraEntry {
  key: string;
  value: Draft;
}

export interface UnionDraft {
  /** The index of the chosen option. */
  option: number;
  value: Draft;
}

export const isObjectDraft = (d: Draft): d is ObjectDraft =>
  typeof d === "object" && d !== null && !Array.isArray(d) && "values" in d;

export const isUnionDraft = (d: Draft): d is UnionDraft =>
  typeof d === "object" && d !== null && !Array.isArray(d) && "option" in d;

/** The draft a field starts with: its default when it has one, else empty (present when required). */
export function initialDraft(field: Field, required: boolean): Draft {
  if (field.default !== undefined) return draftFromValue(field, field.default);
  switch (field.kind) {
    case "object":
      return required ? emptyObject(field) : undefined;
    case "boolean":
      return required ? false : undefined;
    case "array":
      return required ? [] : undefined;
    case "enum":
      return required && field.options.length === 1 ? 0 : undefined;
    case "union":
      return required ? { option: 0, value: initialDraft(field.options[0]!.field, true) } : undefined;
    default:
      return undefined;
  }
}

function emptyObject(field: Extract<Field, { kind: "object" }>): ObjectDraft {
  const values: Record<string, Draft> = {};
  for (const p of field.properties) values[p.name] = initialDraft(p.field, p.required);
  return { values, extras: [] };
}

/** The draft that shows `value` in the form (used for defaults and when leaving the JSON editor). */
export function draftFromValue(field: Field, value: unknown): Draft {
  if (value === undefined || value === null) return undefined;
  switch (field.kind) {
    case "string":
      return typeof value === "string" ? value : JSON.stringify(value);
    case "number":
      return String(value);
    case "boolean":
      return value === true;
    case "enum": {
      const index = field.options.findIndex((o) => sameJson(o, value));
      return index < 0 ? undefined : index;
    }
    case "object": {
      if (typeof value !== "object" || Array.isArray(value)) return undefined;
      const record = value as Record<string, unknown>;
      const values: Record<string, Draft> = {};
      for (const p of field.properties) {
        values[p.name] =
          p.name in record ? draftFromValue(p.field, record[p.name]) : initialDraft(p.field, p.required);
      }
      const known = new Set(field.properties.map((p) => p.name));
      const extras = field.extra
        ? Object.entries(record)
            .filter(([key]) => !known.has(key))
            .map(([key, v]) => ({ key, value: draftFromValue(field.extra!, v) }))
        : [];
      return { values, extras };
    }
    case "array":
      return Array.isArray(value) ? value.map((item) => draftFromValue(field.items, item)) : undefined;
    case "union": {
      // The first option that reads the value back without complaint is the one it was written with.
      const option = field.options.findIndex((o) => fits(o.field, value));
      return option < 0 ? undefined : { option, value: draftFromValue(field.options[option]!.field, value) };
    }
    case "any":
      return typeof value === "string" && !looksLikeJson(value) ? value : JSON.stringify(value);
    case "json":
      return JSON.stringify(value, null, 2);
  }
}

/** Whether `value` has the shape of `field` (types, constants and required keys; not every constraint). */
export function fits(field: Field, value: unknown): boolean {
  switch (field.kind) {
    case "string":
      return typeof value === "string";
    case "number":
      return typeof value === "number" && (!field.integer || Number.isInteger(value));
    case "boolean":
      return typeof value === "boolean";
    case "enum":
      return field.options.some((o) => sameJson(o, value));
    case "object": {
      if (typeof value !== "object" || value === null || Array.isArray(value)) return false;
      const record = value as Record<string, unknown>;
      return field.properties.every((p) =>
        p.name in record
          ? fits(p.field, record[p.name]) || (p.field.nullable && record[p.name] === null)
          : !p.required,
      );
    }
    case "array":
      return Array.isArray(value) && value.every((item) => fits(field.items, item));
    case "union":
      return field.options.some((o) => fits(o.field, value));
    case "any":
    case "json":
      return true;
  }
}

/** True when `text` would be read as something other than this very string by an "any" field. */
export function looksLikeJson(text: string): boolean {
  const t = text.trim();
  if (t === "") return false;
  try {
    JSON.parse(t);
    return true;
  } catch {
    return false;
  }
}

export function sameJson(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}
