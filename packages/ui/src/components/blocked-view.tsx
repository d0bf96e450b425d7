import { useCallback } from "react";
import type { Run } from "../api/types.js";
import { useConnection } from "../state/connection.js";
import { Elapsed } from "./elapsed.js";
import { type ListPage, PolledList } from "./polled-list.js";
import { StatusBadge } from "./status-badge.js";

const PAGE = 50;

/**
 * Every run the server's code cannot go on with (`GET /handlers?blocked=true`), across workflows,
 * those of a workflow that is no longer registered included (no workflow's list shows them): each
 * with its workflow, the code and the detail of why, and since when. Opening one shows it, where it
 * can be cancelled.
 */
export function BlockedView({ onOpen }: { onOpen: (workflow: string, handlerId: string) => void }) {
  const { api } = useConnection();
  const load = useCallback(
    async (cursor: string | null): Promise<ListPage<Run>> => {
      const page = await api.listBlocked(PAGE, cursor);
      return { items: page.runs, cursor: page.cursor };
    },
    [api],
  );
  return (
    <PolledList
      headingId="blocked-heading"
      title="Blocked runs"
      label="Blocked runs"
      empty="No run is blocked."
      load={load}
      keyOf={(run) => run.handlerId}
      itemAttributes={(run) => ({ "data-handler-id": run.handlerId })}
    >
      {(run) => (
        <>
          <div className="waiting-line">
            <span className="tag">{run.workflowName}</span>
            {run.workflowVersion && <span className="muted">version {run.workflowVersion}</span>}
            <button
              type="button"
              className="link-button mono"
              onClick={() => onOpen(run.workflowName, run.handlerId)}
            >
              {run.handlerId}
            </button>
            <StatusBadge status={run.status} blocked={run.blocked} />
            {run.blocked && (
              <span className="muted">
                for <Elapsed start={run.blocked.since} end={null} />
              </span>
            )}
          </div>
          {run.blocked && (
            <p className="blocked-reason">
              <strong className="mono">{run.blocked.code}</strong>: {run.blocked.detail}
            </p>
          )}
        </>
      )}
    </PolledList>
  );
}
