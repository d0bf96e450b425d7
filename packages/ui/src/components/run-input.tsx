import { useRef, useState } from "react";
import type { Run } from "../api/types.js";
import { toJsonText } from "../format.js";
import type { JsonSchema } from "../schema-form/index.js";
import { revealFirstError } from "../state/focus.js";
import { useAction } from "../state/use-action.js";
import { useSchemaForm } from "../state/use-schema-form.js";
import { CopyButton } from "./copy-button.js";
import { Dialog } from "./dialog.js";
import { JsonView } from "./json-view.js";
import { SchemaForm } from "./schema-form.js";

/**
 * The event the run started with, and the ways to run it again: with the same input, or with an
 * edited one (the start form, filled with it). A run whose start event the server did not keep can
 * be run again only with an input typed anew.
 */
export function RunInput({
  run,
  schema,
  onStarted,
}: {
  /** The run's own record (GET /handlers/{id}): listings carry no start event. */
  run: Run;
  schema: JsonSchema | undefined;
  onStarted: (handlerId: string) => void;
}) {
  const again = useAction();
  const [editing, setEditing] = useState(false);
  const start = run.startEvent ?? null;
  return (
    <section className="card run-input" aria-labelledby="input-heading">
      <div className="section-header">
        <h2 id="input-heading" className="section-title">
          Input {start && <span className="muted">({start.type})</span>}
        </h2>
        {start && <CopyButton text={toJsonText(start.value)} label="Copy input" />}
      </div>
      {start ? (
        <JsonView value={start.value} />
      ) : (
        <p className="muted">The server kept no start event for this run.</p>
      )}
      <div className="form-actions">
        {start && (
          <button
            type="button"
            disabled={again.pending}
            onClick={() => again.run(async (api) => onStarted(await api.forkRun(run.handlerId, {})))}
          >
            {again.pending ? "Starting…" : "Re-run"}
          </button>
        )}
        {schema && (
          <button type="button" onClick={() => setEditing(true)}>
            Edit and re-run
          </button>
        )}
      </div>
      {again.error && (
        <p className="error-text" role="alert">
          {again.error}
        </p>
      )}
      {editing && schema && (
        <EditDialog
          run={run}
          schema={schema}
          initial={start?.value}
          onClose={() => setEditing(false)}
          onStarted={(id) => {
            setEditing(false);
            onStarted(id);
          }}
        />
      )}
    </section>
  );
}

function EditDialog({
  run,
  schema,
  initial,
  onClose,
  onStarted,
}: {
  run: Run;
  schema: JsonSchema;
  initial: Record<string, unknown> | undefined;
  onClose: () => void;
  onStarted: (handlerId: string) => void;
}) {
  const form = useSchemaForm(schema, initial);
  const start = useAction();
  const ref = useRef<HTMLFormElement>(null);
  const type = run.startEvent?.qualifiedName ?? schema.title ?? "StartEvent";
  return (
    <Dialog title="Re-run with edited input" onClose={onClose}>
      <form
        ref={ref}
        className="dialog-body"
        noValidate
        onSubmit={async (e) => {
          e.preventDefault();
          const value = form.submit();
          if (value === null) return revealFirstError(ref.current);
          await start.run(async (api) =>
            onStarted(await api.forkRun(run.handlerId, { startEvent: { type, value } })),
          );
          revealFirstError(ref.current);
        }}
      >
        <p className="muted">
          A new run of <span className="mono">{run.workflowName}</span> from this input; the run{" "}
          <span className="mono">{run.handlerId}</span> stays as it is.
        </p>
        <SchemaForm form={form} label={schema.title ?? "Start event"} />
        {start.error && (
          <p className="error-text" role="alert">
            {start.error}
          </p>
        )}
        <div className="dialog-actions">
          <button type="button" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" className="primary" disabled={start.pending}>
            {start.pending ? "Starting…" : "Start run"}
          </button>
        </div>
      </form>
    </Dialog>
  );
}
