import type { DebuggerApi } from "../api/debugger-api.js";
import type { Run } from "../api/types.js";
import { Elapsed } from "./elapsed.js";
import { RunsAcrossWorkflows } from "./runs-across-workflows.js";
import { StatusBadge } from "./status-badge.js";

const listBlocked = (api: DebuggerApi, limit: number, cursor: string | null) =>
  api.listBlocked(limit, cursor);

/**
 * Every run the server's code cannot go on with (`GET /handlers?blocked=true`), across workflows,
 * those of a workflow that is no longer registered included (no workflow's list shows them): each
 * with its workflow, the code and the detail of why, and since when. Opening one shows it, where it
 * can be cancelled.
 */
export function BlockedView({ onOpen }: { onOpen: (workflow: string, handlerId: string) => void }) {
  return (
    <RunsAcrossWorkflows
      headingId="blocked-heading"
      title="Blocked runs"
      label="Blocked runs"
      empty="No run is blocked."
      list={listBlocked}
      onOpen={onOpen}
      line={(run: Run) => (
        <>
          {run.workflowVersion && <span className="muted">version {run.workflowVersion}</span>}
          <StatusBadge status={run.status} blocked={run.blocked} />
          {run.blocked && (
            <span className="muted">
              for <Elapsed start={run.blocked.since} end={null} />
            </span>
          )}
        </>
      )}
      details={(run: Run) =>
        run.blocked && (
          <p className="blocked-reason">
            <strong className="mono">{run.blocked.code}</strong>: {run.blocked.detail}
          </p>
        )
      }
    />
  );
}
