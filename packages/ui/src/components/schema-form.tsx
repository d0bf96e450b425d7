import { useId } from "react";
import { isObjectDraft, issuesAt } from "../schema-form/index.js";
import type { SchemaFormState } from "../state/use-schema-form.js";
import { FieldEditor, Issues, ObjectFields } from "./field-editor.js";

/** A form generated from a JSON Schema, with a raw JSON editor beside it. */
export function SchemaForm({ form, label }: { form: SchemaFormState; label: string }) {
  const id = useId();
  const rootIssues = form.visible("") ? issuesAt(form.issues, "") : [];
  return (
    <div className="schema-form">
      <div className="tabs" role="tablist" aria-label={`${label} editor`}>
        {(["form", "json"] as const).map((mode) => (
          <button
            key={mode}
            type="button"
            role="tab"
            aria-selected={form.mode === mode}
            className={form.mode === mode ? "tab active" : "tab"}
            onClick={() => form.switchMode(mode)}
          >
            {mode === "form" ? "Form" : "JSON"}
          </button>
        ))}
      </div>
      {form.mode === "json" ? (
        <label className="field">
          <span className="field-label">{label} as JSON</span>
          <textarea
            className="json-input"
            spellCheck={false}
            rows={8}
            value={form.jsonText}
            aria-invalid={rootIssues.length > 0}
            onChange={(e) => form.setJsonText(e.target.value)}
          />
        </label>
      ) : (
        <RootFields form={form} idPrefix={id} />
      )}
      <Issues messages={rootIssues} />
    </div>
  );
}

function RootFields({ form, idPrefix }: { form: SchemaFormState; idPrefix: string }) {
  const { field, draft } = form;
  const props = { form, idPrefix };
  if (field.kind === "object" && isObjectDraft(draft)) {
    return (
      <ObjectFields
        {...props}
        field={field}
        draft={draft}
        path=""
        onChange={(d, p) => form.setDraft(d, p)}
        empty={<p className="hint">This event has no fields.</p>}
      />
    );
  }
  return (
    <FieldEditor
      {...props}
      field={field}
      draft={draft}
      path=""
      label="Value"
      required
      onChange={(d, p) => form.setDraft(d, p)}
    />
  );
}
