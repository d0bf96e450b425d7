import type { ReactNode } from "react";
import {
  type Draft,
  type Field,
  initialDraft,
  isObjectDraft,
  issuesAt,
  isUnionDraft,
  type ObjectDraft,
} from "../schema-form/index.js";
import type { SchemaFormState } from "../state/use-schema-form.js";

// The generated form's editors, one per kind of field; objects, arrays and unions hold editors of
// their own fields (hence one file: they call each other).

export interface EditorProps<F extends Field = Field, D = Draft> {
  form: SchemaFormState;
  idPrefix: string;
  field: F;
  draft: D;
  path: string;
  onChange: (draft: Draft, path: string) => void;
}

/** The fields of an object: its properties, then the extra fields it allows. */
export function ObjectFields({
  form,
  idPrefix,
  field,
  draft,
  path,
  onChange,
  empty,
}: EditorProps<Extract<Field, { kind: "object" }>, ObjectDraft> & { empty?: ReactNode }) {
  const set = (name: string) => (d: Draft, p: string) =>
    onChange({ ...draft, values: { ...draft.values, [name]: d } }, p);
  const extra = field.extra;
  const setExtras = (extras: ObjectDraft["extras"], p: string) => onChange({ ...draft, extras }, p);
  return (
    <>
      {field.properties.length === 0 && draft.extras.length === 0 && empty}
      {field.properties.map((p) => (
        <FieldEditor
          key={p.name}
          form={form}
          idPrefix={idPrefix}
          field={p.field}
          draft={draft.values[p.name]}
          path={join(path, p.name)}
          label={p.field.title ?? p.name}
          required={p.required}
          onChange={set(p.name)}
        />
      ))}
      {extra &&
        draft.extras.map((entry, i) => {
          const rowPath = join(path, entry.key.trim() || `#${i + 1}`);
          const replace = (next: (typeof draft.extras)[number]) =>
            draft.extras.map((e, j) => (j === i ? next : e));
          return (
            // biome-ignore lint/suspicious/noArrayIndexKey: extra rows have no identity but their place
            <div className="extra-row" key={i}>
              <label className="field extra-key">
                <span className="field-label">Field name</span>
                <input
                  value={entry.key}
                  onChange={(e) => setExtras(replace({ ...entry, key: e.target.value }), rowPath)}
                />
              </label>
              <FieldEditor
                form={form}
                idPrefix={idPrefix}
                field={extra}
                draft={entry.value}
                path={rowPath}
                label="Value"
                required
                onChange={(d, p) => setExtras(replace({ ...entry, value: d }), p)}
              />
              <button
                type="button"
                className="link-button"
                aria-label={`Remove field ${entry.key || i + 1}`}
                onClick={() =>
                  setExtras(
                    draft.extras.filter((_, j) => j !== i),
                    rowPath,
                  )
                }
              >
                Remove
              </button>
            </div>
          );
        })}
      {extra && (
        <button
          type="button"
          className="small-button"
          onClick={() => setExtras([...draft.extras, { key: "", value: initialDraft(extra, true) }], path)}
        >
          Add field
        </button>
      )}
    </>
  );
}

/** The editor of one field, by its kind. */
export function FieldEditor({
  form,
  idPrefix,
  field,
  draft,
  path,
  label,
  required,
  onChange,
}: EditorProps & { label: string; required: boolean }) {
  const id = `${idPrefix}-${path || "root"}`;
  const messages = form.visible(path) ? issuesAt(form.issues, path) : [];
  const errorId = `${id}-error`;
  const hintId = `${id}-hint`;
  const described = [field.description ? hintId : "", messages.length ? errorId : ""]
    .filter(Boolean)
    .join(" ");
  const common = {
    id,
    "aria-invalid": messages.length > 0,
    "aria-describedby": described || undefined,
    "aria-required": required,
  };
  const title = (
    <span className="field-label">
      {label}
      {!required && <span className="optional"> (optional)</span>}
    </span>
  );
  const hint = field.description ? (
    <span className="hint" id={hintId}>
      {field.description}
    </span>
  ) : null;
  const defaultNote =
    field.default !== undefined ? (
      <span className="hint">Default: {JSON.stringify(field.default)}</span>
    ) : null;
  const errors = <Issues messages={messages} id={errorId} />;

  switch (field.kind) {
    case "string":
    case "number":
    case "any":
      return (
        <div className="field">
          <label htmlFor={id}>{title}</label>
          {hint}
          <input
            {...common}
            type="text"
            inputMode={field.kind === "number" ? (field.integer ? "numeric" : "decimal") : undefined}
            placeholder={placeholder(field)}
            value={typeof draft === "string" ? draft : ""}
            onChange={(e) => onChange(e.target.value === "" ? undefined : e.target.value, path)}
          />
          {defaultNote}
          {errors}
        </div>
      );
    case "json":
      return (
        <div className="field">
          <label htmlFor={id}>{title}</label>
          {hint}
          <textarea
            {...common}
            className="json-input"
            rows={3}
            spellCheck={false}
            placeholder="JSON"
            value={typeof draft === "string" ? draft : ""}
            onChange={(e) => onChange(e.target.value === "" ? undefined : e.target.value, path)}
          />
          {defaultNote}
          {errors}
        </div>
      );
    case "boolean":
      return (
        <div className="field field-inline">
          <input
            {...common}
            type="checkbox"
            checked={draft === true}
            onChange={(e) => onChange(e.target.checked, path)}
          />
          <label htmlFor={id}>{title}</label>
          {hint}
          {errors}
        </div>
      );
    case "enum":
      return (
        <div className="field">
          <label htmlFor={id}>{title}</label>
          {hint}
          <select
            {...common}
            value={typeof draft === "number" ? String(draft) : ""}
            onChange={(e) => onChange(e.target.value === "" ? undefined : Number(e.target.value), path)}
          >
            <option value="">{required ? "Choose…" : "—"}</option>
            {field.options.map((option, i) => (
              <option key={JSON.stringify(option)} value={String(i)}>
                {typeof option === "string" ? option : JSON.stringify(option)}
              </option>
            ))}
          </select>
          {defaultNote}
          {errors}
        </div>
      );
    case "object":
      return (
        <fieldset className="field-group">
          <legend>{title}</legend>
          {hint}
          {isObjectDraft(draft) ? (
            <>
              <ObjectFields
                form={form}
                idPrefix={idPrefix}
                field={field}
                draft={draft}
                path={path}
                onChange={onChange}
              />
              {!required && (
                <button type="button" className="link-button" onClick={() => onChange(undefined, path)}>
                  Remove {label}
                </button>
              )}
            </>
          ) : (
            <button
              type="button"
              className="small-button"
              onClick={() => onChange(initialDraft({ ...field, default: undefined }, true), path)}
            >
              Add {label}
            </button>
          )}
          {errors}
        </fieldset>
      );
    case "array": {
      const items = Array.isArray(draft) ? draft : [];
      return (
        <fieldset className="field-group">
          <legend>{title}</legend>
          {hint}
          {items.map((item, i) => (
            // biome-ignore lint/suspicious/noArrayIndexKey: list items are edited in place, by position
            <div className="array-item" key={i}>
              <FieldEditor
                form={form}
                idPrefix={idPrefix}
                field={field.items}
                draft={item}
                path={join(path, String(i))}
                label={`${label} ${i + 1}`}
                required
                onChange={(d, p) =>
                  onChange(
                    items.map((x, j) => (j === i ? d : x)),
                    p,
                  )
                }
              />
              <button
                type="button"
                className="link-button"
                aria-label={`Remove ${label} ${i + 1}`}
                onClick={() =>
                  onChange(
                    items.filter((_, j) => j !== i),
                    path,
                  )
                }
              >
                Remove
              </button>
            </div>
          ))}
          <button
            type="button"
            className="small-button"
            onClick={() =>
              onChange([...items, initialDraft(field.items, true)], join(path, String(items.length)))
            }
          >
            Add {label} item
          </button>
          {errors}
        </fieldset>
      );
    }
    case "union": {
      const chosen = isUnionDraft(draft) ? draft : null;
      const option = chosen ? field.options[chosen.option] : undefined;
      return (
        <fieldset className="field-group">
          <legend>{title}</legend>
          {hint}
          <label className="field">
            <span className="field-label">Kind</span>
            <select
              value={chosen ? String(chosen.option) : ""}
              onChange={(e) => {
                const index = e.target.value === "" ? -1 : Number(e.target.value);
                const next = field.options[index];
                onChange(next ? { option: index, value: initialDraft(next.field, true) } : undefined, path);
              }}
            >
              <option value="">{required ? "Choose…" : "—"}</option>
              {field.options.map((o, i) => (
                <option key={o.label} value={String(i)}>
                  {o.label}
                </option>
              ))}
            </select>
          </label>
          {chosen && option && (
            <FieldEditor
              form={form}
              idPrefix={idPrefix}
              field={option.field}
              draft={chosen.value}
              path={path}
              label={option.label}
              required
              onChange={(d, p) => onChange({ option: chosen.option, value: d }, p)}
            />
          )}
          {!chosen && errors}
        </fieldset>
      );
    }
  }
}

function placeholder(field: Field): string | undefined {
  if (field.kind === "any") return "text or JSON";
  if (field.kind === "number") return field.integer ? "whole number" : "number";
  if (field.kind === "string" && field.format) return field.format;
  return undefined;
}

/** A field's problems, read out when they appear. */
export function Issues({ messages, id }: { messages: string[]; id?: string }) {
  if (messages.length === 0) return null;
  return (
    <span className="field-error" id={id} role="alert">
      {messages.join(". ")}
    </span>
  );
}

const join = (path: string, key: string) => (path === "" ? key : `${path}.${key}`);
