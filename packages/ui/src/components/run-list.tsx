import { memo, useEffect, useState } from "react";
import type { Run, RunStatus } from "../api/types.js";
import { formatTime } from "../format.js";
import { useConnection } from "../state/connection.js";
import type { RunListState } from "../state/use-run-list.js";
import { Elapsed } from "./elapsed.js";
import { StatusBadge } from "./status-badge.js";
import { VirtualList } from "./virtual-list.js";

const ROW_HEIGHT = 52;
const STATUSES: RunStatus[] = ["running", "completed", "failed", "cancelled"];

/** An id short enough for a row that still tells runs apart: its start and its end. */
export function shortId(id: string): string {
  return id.length <= 14 ? id : `${id.slice(0, 4)}…${id.slice(-8)}`;
}

/**
 * The runs of one workflow, newest first, updated live, filtered by status and searched by id:
 * a prefix is matched against the loaded runs, and a whole id is looked up on the server
 * (GET /handlers/{id}) when no loaded run matches. Two can be picked for comparison.
 */
export function RunList({
  workflow,
  list,
  status,
  onStatus,
  selected,
  onSelect,
  compare,
  onToggleCompare,
  onCompare,
  onNewRun,
}: {
  workflow: string;
  list: RunListState;
  status: RunStatus | null;
  onStatus: (status: RunStatus | null) => void;
  selected: string | null;
  onSelect: (handlerId: string) => void;
  compare: string[];
  onToggleCompare: (handlerId: string) => void;
  onCompare: () => void;
  onNewRun: () => void;
}) {
  const { api } = useConnection();
  const [query, setQuery] = useState("");
  const [lookup, setLookup] = useState<{ id: string; run: Run | null; error: string | null } | null>(null);
  const q = query.trim();
  const matched = q ? list.runs.filter((r) => r.handlerId.startsWith(q)) : list.runs;
  const found = lookup && lookup.id === q && lookup.run && matched.length === 0 ? [lookup.run] : [];
  const runs = found.length > 0 ? found : matched;

  const search = (event: React.FormEvent) => {
    event.preventDefault();
    if (!q || matched.length > 0) return;
    setLookup({ id: q, run: null, error: null });
    api.getRun(q).then(
      (run) => setLookup({ id: q, run: run.workflowName === workflow ? run : null, error: null }),
      () => setLookup({ id: q, run: null, error: "No run has this id." }),
    );
  };

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
      <div className="run-filters">
        <label>
          <span className="visually-hidden">Status</span>
          <select
            aria-label="Filter runs by status"
            value={status ?? ""}
            onChange={(e) => onStatus((e.target.value || null) as RunStatus | null)}
          >
            <option value="">All statuses</option>
            {STATUSES.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
        </label>
        <form onSubmit={search}>
          <input
            type="search"
            aria-label="Search runs by id"
            placeholder="Run id or its start…"
            value={query}
            onChange={(e) => setQuery(e.target.value)}
          />
        </form>
      </div>
      {compare.length > 0 && (
        <div className="compare-bar">
          <span>{compare.length} of 2 picked</span>
          <button type="button" className="small-button" disabled={compare.length !== 2} onClick={onCompare}>
            Compare
          </button>
        </div>
      )}
      {list.error && (
        <p className="error-text" role="alert">
          {list.error}
        </p>
      )}
      {lookup?.id === q && lookup.error && <p className="muted">{lookup.error}</p>}
      {q && matched.length === 0 && !lookup && <p className="muted">Press Enter to look this id up.</p>}
      {list.loading && list.runs.length === 0 && !list.error && <p className="muted">Loading…</p>}
      {!list.loading && list.runs.length === 0 && !list.error && (
        <p className="muted">{status ? `No ${status} runs.` : "No runs yet. Start one with the form."}</p>
      )}
      <VirtualList
        items={runs}
        rowHeight={ROW_HEIGHT}
        label="Runs"
        className="run-list"
        rowKey={(run) => run.handlerId}
        renderRow={(run, i) => (
          <RunRow
            run={run}
            selected={run.handlerId === selected}
            picked={compare.includes(run.handlerId)}
            canPick={compare.length < 2}
            onSelect={onSelect}
            onToggleCompare={onToggleCompare}
            onVisible={i >= runs.length - 10 && !q && list.hasMore ? list.more : undefined}
          />
        )}
      />
      {list.hasMore && !q && (
        <button type="button" className="small-button" onClick={list.more} disabled={list.loading}>
          {list.loading ? "Loading…" : "Show older runs"}
        </button>
      )}
    </section>
  );
}

const RunRow = memo(function RunRow({
  run,
  selected,
  picked,
  canPick,
  onSelect,
  onToggleCompare,
  onVisible,
}: {
  run: Run;
  selected: boolean;
  picked: boolean;
  canPick: boolean;
  onSelect: (handlerId: string) => void;
  onToggleCompare: (handlerId: string) => void;
  /** Near the end of what is loaded: asks for the next page. */
  onVisible: (() => void) | undefined;
}) {
  useEffect(() => onVisible?.(), [onVisible]);
  return (
    <div className={selected ? "run selected" : "run"}>
      <button
        type="button"
        className="run-button"
        aria-current={selected ? "true" : undefined}
        onClick={() => onSelect(run.handlerId)}
        data-handler-id={run.handlerId}
      >
        <span className="run-line">
          <StatusBadge status={run.status} blocked={run.blocked} />
          <span className="run-duration">
            <Elapsed
              start={run.startedAt}
              end={run.status === "running" ? null : (run.completedAt ?? run.updatedAt)}
            />
          </span>
        </span>
        <span className="run-line muted">
          <span className="run-id" title={run.handlerId}>
            {shortId(run.handlerId)}
          </span>
          <time dateTime={run.startedAt}>{formatTime(run.startedAt)}</time>
        </span>
      </button>
      <label className="compare-check" title="Pick for comparison">
        <input
          type="checkbox"
          checked={picked}
          disabled={!picked && !canPick}
          onChange={() => onToggleCompare(run.handlerId)}
          aria-label={`Compare run ${run.handlerId}`}
        />
      </label>
    </div>
  );
});
