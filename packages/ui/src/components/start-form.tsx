import { useRef } from "react";
import type { JsonSchema } from "../schema-form/index.js";
import { revealFirstError } from "../state/focus.js";
import { useAction } from "../state/use-action.js";
import { useSchemaForm } from "../state/use-schema-form.js";
import { SchemaForm } from "./schema-form.js";

/** Starts a run from a form generated from the workflow's start event schema. */
export function StartForm({
  workflow,
  schema,
  onStarted,
}: {
  workflow: string;
  schema: JsonSchema;
  onStarted: (handlerId: string) => void;
}) {
  const form = useSchemaForm(schema);
  const start = useAction();
  const ref = useRef<HTMLFormElement>(null);

  return (
    <form
      ref={ref}
      className="card start-form"
      aria-labelledby="start-heading"
      noValidate
      onSubmit={async (e) => {
        e.preventDefault();
        const value = form.submit();
        if (value === null) return revealFirstError(ref.current);
        await start.run(async (api) => onStarted(await api.startRun(workflow, schema.title, value)));
        revealFirstError(ref.current);
      }}
    >
      <h2 id="start-heading" className="section-title">
        Start a run of {workflow}
      </h2>
      {schema.description && <p className="hint">{schema.description}</p>}
      <SchemaForm form={form} label={schema.title ?? "Start event"} />
      {start.error && (
        <p className="error-text" role="alert">
          {start.error}
        </p>
      )}
      <div className="form-actions">
        <button type="submit" className="primary" disabled={start.pending}>
          {start.pending ? "Starting…" : "Start run"}
        </button>
      </div>
    </form>
  );
}
