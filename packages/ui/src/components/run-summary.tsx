import { useState } from "react";
import { describeError } from "../api/debugger-api.js";
import type { Run, RunEvent } from "../api/types.js";
import { formatTime, runDuration, toJsonText } from "../format.js";
import { useConnection } from "../state/connection.js";
import { useNow } from "../state/use-interval.js";
import { CopyButton } from "./copy-button.js";
import { JsonView } from "./json-view.js";
import { StatusBadge } from "./status-badge.js";

/** The selected run: status and timing, its error or result, and the ways to act on it. */
export function RunSummary({
  run,
  pendingInput,
  onAnswer,
  onChanged,
}: {
  run: Run;
  /** The input-required event the run waits on, if any. */
  pendingInput: RunEvent | null;
  onAnswer: () => void;
  onChanged: () => void;
}) {
  const { api, handleAuthError } = useConnection();
  const [cancelling, setCancelling] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const now = useNow(run.status === "running");

  const cancel = async () => {
    setCancelling(true);
    setError(null);
    try {
      await api.cancelRun(run.handlerId);
      onChanged();
    } catch (err) {
      if (!handleAuthError(err)) setError(describeError(err));
    } finally {
      setCancelling(false);
    }
  };

  return (
    <section className="card run-summary" aria-labelledby="run-heading">
      <div className="section-header">
        <h2 id="run-heading" className="section-title">
          Run <span className="mono">{run.handlerId}</span>
        </h2>
        <StatusBadge status={run.status} />
      </div>
      <dl className="facts">
        <dt>Started</dt>
        <dd>
          <time dateTime={run.startedAt}>{formatTime(run.startedAt)}</time>
        </dd>
        <dt>{run.status === "running" ? "Running for" : "Took"}</dt>
        <dd>{runDuration(run.startedAt, run.completedAt, now)}</dd>
      </dl>
      {pendingInput && run.status === "running" && (
        <div className="input-required" role="status">
          <div>
            <strong>Waiting for input</strong> ({pendingInput.type})
            <JsonView value={pendingInput.value} />
          </div>
          <button type="button" className="primary" onClick={onAnswer}>
            Answer
          </button>
        </div>
      )}
      {run.status === "running" && (
        <button type="button" className="danger" onClick={cancel} disabled={cancelling}>
          {cancelling ? "Cancelling…" : "Cancel run"}
        </button>
      )}
      {run.status === "failed" && (
        <div className="run-error" role="alert">
          <strong>Error</strong>
          <pre className="json">{run.error ?? "The run failed."}</pre>
        </div>
      )}
      {run.status === "completed" && (
        <div className="run-result">
          <div className="section-header">
            <strong>Result</strong>
            <span>
              <CopyButton text={toJsonText(run.result)} label="Copy result" />
            </span>
          </div>
          <JsonView value={run.result} />
        </div>
      )}
      {error && (
        <p className="error-text" role="alert">
          {error}
        </p>
      )}
    </section>
  );
}
