import { useState } from "react";
import { describeError } from "../api/debugger-api.js";
import type { JsonSchema } from "../schema-form/index.js";
import { useConnection } from "../state/connection.js";
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
  const { api, handleAuthError } = useConnection();
  const form = useSchemaForm(schema);
  const [sending, setSending] = useState(false);
  const [error, setError] = useState<string | null>(null);

  return (
    <form
      className="card start-form"
      aria-labelledby="start-heading"
      noValidate
      onSubmit={async (e) => {
        e.preventDefault();
        const value = form.submit();
        if (value === null) return;
        setSending(true);
        setError(null);
        try {
          onStarted(await api.startRun(workflow, schema.title, value));
        } catch (err) {
          if (!handleAuthError(err)) setError(describeError(err));
        } finally {
          setSending(false);
        }
      }}
    >
      <h2 id="start-heading" className="section-title">
        Start a run of {workflow}
      </h2>
      {schema.description && <p className="hint">{schema.description}</p>}
      <SchemaForm form={form} label={schema.title ?? "Start event"} />
      {error && (
        <p className="error-text" role="alert">
          {error}
        </p>
      )}
      <div className="form-actions">
        <button type="submit" className="primary" disabled={sending}>
          {sending ? "Starting…" : "Start run"}
        </button>
      </div>
    </form>
  );
}
