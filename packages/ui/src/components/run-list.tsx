import type { Run } from "../api/types.js";
import { formatTime, runDuration } from "../format.js";
import { useNow } from "../state/use-interval.js";
import { StatusBadge } from "./status-badge.js";

/** The runs of one workflow, newest first, updated live; two can be picked for comparison. */
export function RunList({
  runs,
  more,
  onMore,
  error,
  selected,
  onSelect,
  compare,
  onToggleCompare,
  onCompare,
  onNewRun,
}: {
  runs: Run[] | undefined;
  /** The server has older runs than those shown. */
  more: boolean;
  onMore: () => void;
  error: string | null;
  selected: string | null;
  onSelect: (handlerId: string) => void;
  compare: string[];
  onToggleCompare: (handlerId: string) => void;
  onCompare: () => void;
  onNewRun: () => void;
}) {
  const now = useNow(runs?.some((r) => r.status === "running") ?? false);
  return (
    <section className="panel-section runs" aria-labelledby="runs-heading">
      <div className="section-header">
        <h2 id="runs-heading" className="section-title">
          Runs
        </h2>
        <button type="button" className="small-button" onClick={onNewRun}>
          New run
        </button>
      </div>
      {compare.length > 0 && (
        <div className="compare-bar">
          <span>{compare.length} of 2 picked</span>
          <button type="button" className="small-button" disabled={compare.length !== 2} onClick={onCompare}>
            Compare
          </button>
        </div>
      )}
      {error && <p className="error-text">{error}</p>}
      {runs === undefined && !error && <p className="muted">Loading…</p>}
      {runs?.length === 0 && <p className="muted">No runs yet. Start one with the form.</p>}
      <ul className="plain-list" aria-label="Runs">
        {runs?.map((run) => (
          <li key={run.handlerId} className={run.handlerId === selected ? "run selected" : "run"}>
            <button
              type="button"
              className="run-button"
              aria-current={run.handlerId === selected ? "true" : undefined}
              onClick={() => onSelect(run.handlerId)}
              data-handler-id={run.handlerId}
            >
              <span className="run-line">
                <StatusBadge status={run.status} />
                <span className="run-duration">{runDuration(run.startedAt, run.completedAt, now)}</span>
              </span>
              <span className="run-line muted">
                <span className="run-id" title={run.handlerId}>
                  {run.handlerId.slice(0, 10)}
                </span>
                <time dateTime={run.startedAt}>{formatTime(run.startedAt)}</time>
              </span>
            </button>
            <label className="compare-check" title="Pick for comparison">
              <input
                type="checkbox"
                checked={compare.includes(run.handlerId)}
                disabled={!compare.includes(run.handlerId) && compare.length >= 2}
                onChange={() => onToggleCompare(run.handlerId)}
                aria-label={`Compare run ${run.handlerId}`}
              />
            </label>
          </li>
        ))}
      </ul>
      {more && (
        <button type="button" className="small-button" onClick={onMore}>
          Show older runs
        </button>
      )}
    </section>
  );
}
