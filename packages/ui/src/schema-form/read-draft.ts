import { type Draft, isObjectDraft, isUnionDraft, looksLikeJson } from "./draft.js";
import type { Field, NumberField, StringField } from "./field-model.js";

/** One problem with what was typed, located by a dotted path ("" is the whole value). */
export interface FormIssue {
  path: string;
  message: string;
}

export interface ReadResult {
  /** The JSON value; `undefined` when the field is left out. */
  value: unknown;
  issues: FormIssue[];
}

/**
 * Turns a draft into the JSON value it stands for and lists, in words, everything that keeps it from
 * fitting the schema. A required field left empty is "Required"; an optional one is left out.
 */
export function readDraft(field: Field, draft: Draft, required = true, path = ""): ReadResult {
  const issues: FormIssue[] = [];
  const value = read(field, draft, required, path, issues);
  return { value, issues };
}

function read(field: Field, draft: Draft, required: boolean, path: string, issues: FormIssue[]): unknown {
  const problem = (message: string, at = path) => {
    issues.push({ path: at, message });
    return undefined;
  };
  if (draft === undefined || (typeof draft === "string" && draft.trim() === "" && field.kind !== "string")) {
    if (!required) return undefined;
    if (field.nullable) return null;
    return problem("Required");
  }
  switch (field.kind) {
    case "string": {
      if (typeof draft !== "string") return problem("Expected text");
      if (draft === "" && !required) return undefined;
      if (draft === "" && field.nullable) return null;
      const message = stringProblem(field, draft);
      return message ? problem(message) : draft;
    }
    case "number": {
      const text = String(draft).trim();
      const n = Number(text);
      if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(text) || !Number.isFinite(n)) {
        return problem(field.integer ? "Enter a whole number" : "Enter a number");
      }
      const message = numberProblem(field, n);
      return message ? problem(message) : n;
    }
    case "boolean":
      return draft === true;
    case "enum": {
      if (typeof draft !== "number" || field.options[draft] === undefined)
        return problem("Choose one of the options");
      return field.options[draft];
    }
    case "object": {
      if (!isObjectDraft(draft)) return problem("Expected an object");
      const out: Record<string, unknown> = {};
      for (const p of field.properties) {
        const v = read(p.field, draft.values[p.name], p.required, join(path, p.name), issues);
        if (v !== undefined) out[p.name] = v;
      }
      if (field.extra) {
        const seen = new Set(field.properties.map((p) => p.name));
        for (const [i, entry] of draft.extras.entries()) {
          const key = entry.key.trim();
          if (key === "") {
            problem("Name the field", join(path, `#${i + 1}`));
            continue;
          }
          if (seen.has(key)) {
            problem(`"${key}" is given twice`, join(path, key));
            continue;
          }
          seen.add(key);
          const v = read(field.extra, entry.value, true, join(path, key), issues);
          if (v !== undefined) out[key] = v;
        }
      }
      return out;
    }
    case "array": {
      if (!Array.isArray(draft)) return problem("Expected a list");
      if (draft.length === 0 && !required) return undefined;
      const items = draft.map((item, i) => read(field.items, item, true, join(path, String(i)), issues));
      if (field.minItems !== undefined && items.length < field.minItems) {
        problem(`Add at least ${field.minItems} item${field.minItems === 1 ? "" : "s"}`);
      }
      if (field.maxItems !== undefined && items.length > field.maxItems) {
        problem(`At most ${field.maxItems} item${field.maxItems === 1 ? "" : "s"}`);
      }
      return items;
    }
    case "union": {
      if (!isUnionDraft(draft)) return problem("Choose one of the options");
      const option = field.options[draft.option];
      if (!option) return problem("Choose one of the options");
      return read(option.field, draft.value, true, path, issues);
    }
    case "any": {
      const text = String(draft);
      return looksLikeJson(text) ? JSON.parse(text) : text;
    }
    case "json": {
      try {
        return JSON.parse(String(draft));
      } catch (error) {
        return problem(`Not valid JSON: ${(error as Error).message}`);
      }
    }
  }
}

function stringProblem(field: StringField, text: string): string | null {
  const length = [...text].length;
  if (field.minLength !== undefined && length < field.minLength) {
    return `At least ${field.minLength} character${field.minLength === 1 ? "" : "s"}`;
  }
  if (field.maxLength !== undefined && length > field.maxLength) {
    return `At most ${field.maxLength} character${field.maxLength === 1 ? "" : "s"}`;
  }
  if (field.pattern !== undefined && !matches(field.pattern, text)) {
    return field.format ? `Not a valid ${field.format}` : `Must match the pattern ${field.pattern}`;
  }
  return null;
}

function numberProblem(field: NumberField, n: number): string | null {
  if (field.integer && !Number.isInteger(n)) return "Enter a whole number";
  if (field.minimum !== undefined && n < field.minimum) return `At least ${field.minimum}`;
  if (field.maximum !== undefined && n > field.maximum) return `At most ${field.maximum}`;
  if (field.exclusiveMinimum !== undefined && n <= field.exclusiveMinimum)
    return `More than ${field.exclusiveMinimum}`;
  if (field.exclusiveMaximum !== undefined && n >= field.exclusiveMaximum)
    return `Less than ${field.exclusiveMaximum}`;
  return null;
}

function matches(pattern: string, text: string): boolean {
  for (const flags of ["u", ""]) {
    try {
      return new RegExp(pattern, flags).test(text);
    } catch {
      // Some patterns are valid only without the unicode flag; a pattern valid in neither is not checked.
    }
  }
  return true;
}

const join = (path: string, key: string) => (path === "" ? key : `${path}.${key}`);

/** Issues of one path, for showing them beside the input they belong to. */
export function issuesAt(issues: readonly FormIssue[], path: string): string[] {
  return issues.filter((i) => i.path === path).map((i) => i.message);
}
