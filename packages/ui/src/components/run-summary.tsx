import { useRef } from "react";
import type { Run, RunEvent } from "../api/types.js";
import { formatTime, toJsonText } from "../format.js";
import type { RunModel } from "../run/run-model.js";
import { useFocusRescue } from "../state/focus.js";
import { useAction } from "../state/use-action.js";
import { CopyButton } from "./copy-button.js";
import { Elapsed } from "./elapsed.js";
import { FailureBox } from "./failure-box.js";
import { JsonView } from "./json-view.js";
import type { SentEvent } from "./send-event-dialog.js";
import { StatusBadge } from "./status-badge.js";

/** The selected run: status and timing, its error or result, and the ways to act on it. */
export function RunSummary({
  run,
  pendingInput,
  onAnswer,
  onChanged,
  model,
  sent,
}: {
  /** What this page sent into the run, oldest first. */
  sent: readonly SentEvent[];
  run: Run;
  /** The run's events so far, for how it ended and what its steps threw. */
  model: RunModel | null;
  /** The input-required event the run waits on, if any. */
  pendingInput: RunEvent | null;
  onAnswer: () => void;
  onChanged: () => void;
}) {
  const cancel = useAction();
  const heading = useRef<HTMLHeadingElement>(null);
  // Start run and Cancel run disappear once pressed: the focus lands on the run, not on the body.
  useFocusRescue(heading, `${run.handlerId}:${run.status}:${pendingInput?.sequence}`);

  return (
    <section className="card run-summary" aria-labelledby="run-heading">
      <div className="section-header">
        <h2 id="run-heading" className="section-title" tabIndex={-1} ref={heading}>
          Run <span className="mono">{run.handlerId}</span>
        </h2>
        <StatusBadge status={run.status} blocked={run.blocked} />
      </div>
      <dl className="facts">
        <dt>Started</dt>
        <dd>
          <time dateTime={run.startedAt}>{formatTime(run.startedAt)}</time>
        </dd>
        <dt>{run.status === "running" ? "Running for" : "Took"}</dt>
        <dd>
          <Elapsed
            start={run.startedAt}
            end={run.status === "running" ? null : (run.completedAt ?? run.updatedAt)}
          />
        </dd>
      </dl>
      {run.blocked && run.status === "running" && (
        <div className="blocked-reason" role="status">
          <strong>Blocked ({run.blocked.code})</strong>: {run.blocked.detail}. Cancel it, or deploy code that
          fits: that resumes it.
        </div>
      )}
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
      {sent.length > 0 && <SentList sent={sent} />}
      {run.status === "running" && (
        <button
          type="button"
          className="danger"
          onClick={() =>
            cancel.run(async (api) => {
              await api.cancelRun(run.handlerId);
              onChanged();
            })
          }
          disabled={cancel.pending}
        >
          {cancel.pending ? "Cancelling…" : "Cancel run"}
        </button>
      )}
      {run.status !== "running" && run.status !== "completed" && <FailureBox run={run} model={model} />}
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
      {cancel.error && (
        <p className="error-text" role="alert">
          {cancel.error}
        </p>
      )}
    </section>
  );
}

/** The events this page sent into the run: the latest confirmed, each with what it carried. */
function SentList({ sent }: { sent: readonly SentEvent[] }) {
  const last = sent[sent.length - 1]!;
  return (
    <div className="sent-events">
      <p role="status">
        Sent <strong>{last.type}</strong>
        {last.step && (
          <>
            {" "}
            to <span className="mono">{last.step}</span>
          </>
        )}{" "}
        at <time dateTime={last.at}>{formatTime(last.at)}</time>: the server has it.
      </p>
      <details>
        <summary>Sent from this page ({sent.length})</summary>
        <ol>
          {sent.map((e) => (
            <li key={e.at + e.type}>
              <span className="mono">{e.type}</span> at {formatTime(e.at)}
              <JsonView value={e.value} />
            </li>
          ))}
        </ol>
      </details>
    </div>
  );
}
