import { useMemo, useState } from "react";
import {
  type Draft,
  draftFromValue,
  type Field,
  type FormIssue,
  initialDraft,
  type JsonSchema,
  readDraft,
  toField,
} from "../schema-form/index.js";

export type FormMode = "form" | "json";

export interface SchemaFormState {
  field: Field;
  mode: FormMode;
  draft: Draft;
  jsonText: string;
  /** Issues of what is typed now, shown where `visible(path)` says so. */
  issues: FormIssue[];
  visible: (path: string) => boolean;
  setDraft: (draft: Draft, path: string) => void;
  setJsonText: (text: string) => void;
  switchMode: (mode: FormMode) => void;
  /** Marks every issue visible and returns the value, or null when something is wrong. */
  submit: () => Record<string, unknown> | null;
}

/**
 * The state of one generated form: a draft edited field by field, or raw JSON for what the form
 * cannot express. Issues appear beside a field once it was edited, and everywhere after a submit.
 * Remount (React `key`) to start over with another schema. `initial` fills it with a value.
 */
export function useSchemaForm(schema: JsonSchema, initial?: Record<string, unknown>): SchemaFormState {
  const field = useMemo(() => toField(schema), [schema]);
  const [mode, setMode] = useState<FormMode>(
    field.kind === "object" || field.kind === "any" ? "form" : "json",
  );
  // A re-run's form starts from the input it ran with.
  const [draft, setDraftState] = useState<Draft>(
    () => (initial && draftFromValue(field, initial)) ?? initialDraft(field, true),
  );
  const [jsonText, setJsonText] = useState(() => (initial ? JSON.stringify(initial, null, 2) : "{}"));
  const [touched, setTouched] = useState<ReadonlySet<string>>(new Set());
  const [submitted, setSubmitted] = useState(false);

  const issues = useMemo(
    () => (mode === "form" ? readDraft(field, draft).issues : readJson(jsonText).issues),
    [mode, field, draft, jsonText],
  );

  const switchMode = (next: FormMode) => {
    if (next === mode) return;
    if (next === "json") {
      const { value } = readDraft(field, draft);
      setJsonText(JSON.stringify(value ?? {}, null, 2));
    } else {
      const { value, issues: jsonIssues } = readJson(jsonText);
      if (jsonIssues.length === 0) setDraftState(draftFromValue(field, value) ?? initialDraft(field, true));
    }
    setMode(next);
  };

  return {
    field,
    mode,
    draft,
    jsonText,
    issues,
    visible: (path) =>
      submitted || touched.has(path) || (path !== "" && [...touched].some((t) => t.startsWith(`${path}.`))),
    setDraft: (next, path) => {
      setDraftState(next);
      setTouched((t) => (t.has(path) ? t : new Set(t).add(path)));
    },
    setJsonText: (text) => {
      setJsonText(text);
      setTouched((t) => new Set(t).add(""));
    },
    switchMode,
    submit: () => {
      setSubmitted(true);
      const read = mode === "form" ? readDraft(field, draft) : readJson(jsonText);
      if (read.issues.length > 0) return null;
      return (read.value ?? {}) as Record<string, unknown>;
    },
  };
}

function readJson(text: string): { value: unknown; issues: FormIssue[] } {
  try {
    const value: unknown = JSON.parse(text);
    if (typeof value !== "object" || value === null || Array.isArray(value)) {
      return { value: undefined, issues: [{ path: "", message: "The event must be a JSON object" }] };
    }
    return { value, issues: [] };
  } catch (error) {
    return {
      value: undefined,
      issues: [{ path: "", message: `Not valid JSON: ${(error as Error).message}` }],
    };
  }
}
