import { useCallback } from "react";
import type { Schedule } from "../api/types.js";
import { useConnection } from "../state/connection.js";
import { type ListPage, PolledList } from "./polled-list.js";

/** The server's schedules (`GET /schedules`): each one's next fire time and the last run it started. */
export function SchedulesView({ onOpen }: { onOpen: (workflow: string, handlerId: string) => void }) {
  const { api } = useConnection();
  // One page: the server lists every schedule at once.
  const load = useCallback(
    async (): Promise<ListPage<Schedule>> => ({ items: await api.listSchedules(), cursor: null }),
    [api],
  );
  return (
    <PolledList
      headingId="schedules-heading"
      title="Schedules"
      label="Schedules"
      empty="No workflow has a schedule."
      load={load}
      keyOf={(s) => s.scheduleId}
      itemAttributes={(s) => ({ "data-schedule-id": s.scheduleId })}
    >
      {(s) => (
        <>
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
        </>
      )}
    </PolledList>
  );
}
