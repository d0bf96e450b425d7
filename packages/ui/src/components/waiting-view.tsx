import { useCallback, useEffect, useState } from "react";
import { describeError } from "../api/debugger-api.js";
import type { Run } from "../api/types.js";
import { toJsonText } from "../format.js";
import { useConnection } from "../state/connection.js";
import { useInterval } from "../state/use-interval.js";
import { Elapsed } from "./elapsed.js";

const PAGE = 50;
const POLL_MS = 3000;

/**
 * Every run that waits for a person, across workflows, with the question it asks: the first page
 * polled (a small answer: only waiting runs), older ones on demand. Opening one shows it with its
 * Answer button.
 */
export function WaitingView({ onOpen }: { onOpen: (workflow: string, handlerId: string) => void }) {
  const { api, handleAuthError } = useConnection();
  const [first, setFirst] = useState<{ runs: Run[]; cursor: string | null } | null>(null);
  // Older pages, once asked for: their runs and the cursor after them.
  const [older, setOlder] = useState<{ runs: Run[]; cursor: string | null } | null>(null);
  const [error, setError] = useState<string | null>(null);

  const poll = useCallback(() => {
    api.listWaiting(PAGE, null).then(
      (page) => {
        setFirst(page);
        setError(null);
      },
      (e: unknown) => {
        if (!handleAuthError(e)) setError(describeError(e));
      },
    );
  }, [api, handleAuthError]);
  useEffect(poll, [poll]);
  useInterval(poll, POLL_MS);

  const next = older ? older.cursor : (first?.cursor ?? null);
  const more = async () => {
    if (next === null) return;
    try {
      const page = await api.listWaiting(PAGE, next);
      setOlder((o) => ({ runs: [...(o?.runs ?? []), ...page.runs], cursor: page.cursor }));
    } catch (e) {
      if (!handleAuthError(e)) setError(describeError(e));
    }
  };
  const seen = new Set(first?.runs.map((r) => r.handlerId));
  const runs = [...(first?.runs ?? []), ...(older?.runs ?? []).filter((r) => !seen.has(r.handlerId))];

  return (
    <section className="card waiting-view" aria-labelledby="waiting-heading">
      <h2 id="waiting-heading" className="section-title">
        Waiting for input <span className="count">{first ? runs.length.toLocaleString() : ""}</span>
      </h2>
      {error && (
        <p className="error-text" role="alert">
          {error}
        </p>
      )}
      {first === null && !error && <p className="muted">Loading…</p>}
      {first !== null && runs.length === 0 && <p className="muted">No run waits for input.</p>}
      <ul className="plain-list waiting-list" aria-label="Runs waiting for input">
        {runs.map((run) => (
          <li key={run.handlerId} className="waiting-run" data-handler-id={run.handlerId}>
            <div className="waiting-line">
              <span className="tag">{run.workflowName}</span>
              <button
                type="button"
                className="link-button mono"
                onClick={() => onOpen(run.workflowName, run.handlerId)}
              >
                {run.handlerId}
              </button>
              <span className="muted">
                waiting · started <Elapsed start={run.startedAt} end={null} /> ago
              </span>
            </div>
            {run.waitingFor && (
              <div className="waiting-question">
                <strong>{run.waitingFor.type}</strong>
                <pre className="json">{toJsonText(run.waitingFor.value)}</pre>
              </div>
            )}
          </li>
        ))}
      </ul>
      {next !== null && (
        <button type="button" onClick={more}>
          Load older
        </button>
      )}
    </section>
  );
}
