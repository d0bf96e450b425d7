import { useCallback, useEffect, useState } from "react";
import { describeError } from "../api/debugger-api.js";
import type { Schedule } from "../api/types.js";
import { useConnection } from "../state/connection.js";
import { useInterval } from "../state/use-interval.js";

const POLL_MS = 3000;

/** The server's schedules (`GET /schedules`): each one's next fire time and the last run it started. */
export function SchedulesView({ onOpen }: { onOpen: (workflow: string, handlerId: string) => void }) {
  const { api, handleAuthError } = useConnection();
  const [schedules, setSchedules] = useState<Schedule[] | null>(null);
  const [error, setError] = useState<string | null>(null);

  const poll = useCallback(() => {
    api.listSchedules().then(
      (list) => {
        setSchedules(list);
        setError(null);
      },
      (e: unknown) => {
        if (!handleAuthError(e)) setError(describeError(e));
      },
    );
  }, [api, handleAuthError]);
  useEffect(poll, [poll]);
  useInterval(poll, POLL_MS);

  return (
    <section className="card waiting-view" aria-labelledby="schedules-heading">
      <h2 id="schedules-heading" className="section-title">
        Schedules <span className="count">{schedules ? schedules.length.toLocaleString() : ""}</span>
      </h2>
      {error && (
        <p className="error-text" role="alert">
          {error}
        </p>
      )}
      {schedules === null && !error && <p className="muted">Loading…</p>}
      {schedules !== null && schedules.length === 0 && <p className="muted">No workflow has a schedule.</p>}
      <ul className="plain-list waiting-list" aria-label="Schedules">
        {(schedules ?? []).map((s) => (
          <li key={s.scheduleId} className="waiting-run" data-schedule-id={s.scheduleId}>
            <div className="waiting-line">
              <span className="tag">{s.workflowName}</span>
              <strong className="mono">{s.scheduleId}</strong>
              <span className="mono muted">
                {s.cron} ({s.timezone})
              </span>
            </div>
            <div className="waiting-line">
              <span>
                next: <time dateTime={s.nextFireAt ?? undefined}>{s.nextFireAt ?? "never"}</time>
              </span>
              <span>
                last run:{" "}
                {s.lastHandlerId ? (
                  <button
                    type="button"
                    className="link-button mono"
                    onClick={() => onOpen(s.workflowName, s.lastHandlerId as string)}
                  >
                    {s.lastHandlerId}
                  </button>
                ) : (
                  <span className="muted">none yet</span>
                )}
                {s.lastFireAt && <span className="muted"> (fired {s.lastFireAt})</span>}
              </span>
            </div>
          </li>
        ))}
      </ul>
    </section>
  );
}
