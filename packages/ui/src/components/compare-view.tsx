import type { Run, RunEvent } from "../api/types.js";
import { formatTime, runDuration, toJsonText } from "../format.js";
import { useResource } from "../state/use-resource.js";
import { useRunEvents } from "../state/use-run-events.js";
import { JsonView } from "./json-view.js";
import { StatusBadge } from "./status-badge.js";

/** Two runs (by id, from the URL) side by side, once both are loaded. */
export function CompareView({ ids, onClose }: { ids: [string, string]; onClose: () => void }) {
  const a = useResource(`run:${ids[0]}`, (api) => api.getRun(ids[0]));
  const b = useResource(`run:${ids[1]}`, (api) => api.getRun(ids[1]));
  if (a.error || b.error) return <p className="error-text">{a.error ?? b.error}</p>;
  if (!a.data || !b.data) return <p className="muted">Loading the runs…</p>;
  return <CompareRuns runs={[a.data, b.data]} onClose={onClose} />;
}

/** Two runs side by side: their results, then their events position by position, differences marked. */
function CompareRuns({ runs, onClose }: { runs: [Run, Run]; onClose: () => void }) {
  const left = useRunEvents(runs[0].handlerId);
  const right = useRunEvents(runs[1].handlerId);
  const a = left.model.published;
  const b = right.model.published;
  const rows = Math.max(a.length, b.length);
  const sameResult =
    toJsonText(runs[0].result) === toJsonText(runs[1].result) && runs[0].error === runs[1].error;

  return (
    <section className="card compare" aria-labelledby="compare-heading">
      <div className="section-header">
        <h2 id="compare-heading" className="section-title">
          Comparing two runs
        </h2>
        <button type="button" className="small-button" onClick={onClose}>
          Close comparison
        </button>
      </div>
      <table className="compare-table">
        <thead>
          <tr>
            {runs.map((run) => (
              <th key={run.handlerId} scope="col">
                <span className="mono">{run.handlerId}</span> <StatusBadge status={run.status} />
                <div className="muted">
                  {formatTime(run.startedAt)} · {runDuration(run.startedAt, run.completedAt, Date.now())}
                </div>
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          <tr className={sameResult ? "" : "differs"}>
            {runs.map((run) => (
              <td key={run.handlerId} data-testid="compare-result">
                <strong>{run.status === "failed" ? "Error" : "Result"}</strong>
                {sameResult ? "" : <span className="tag">differs</span>}
                {run.status === "failed" ? (
                  <pre className="json">{run.error}</pre>
                ) : (
                  <JsonView value={run.result} />
                )}
              </td>
            ))}
          </tr>
          {Array.from({ length: rows }, (_, i) => {
            const x = a[i];
            const y = b[i];
            const differs = !x || !y || x.type !== y.type || toJsonText(x.value) !== toJsonText(y.value);
            return (
              // biome-ignore lint/suspicious/noArrayIndexKey: rows pair the runs' events by position
              <tr key={i} className={differs ? "differs" : ""}>
                <CompareCell event={x} />
                <CompareCell event={y} />
              </tr>
            );
          })}
        </tbody>
      </table>
    </section>
  );
}

function CompareCell({ event }: { event: RunEvent | undefined }) {
  if (!event) return <td className="muted">—</td>;
  return (
    <td data-type={event.type}>
      <span className="event-seq">#{event.sequence}</span> <span className="event-type">{event.type}</span>
      <JsonView value={event.value} />
    </td>
  );
}
