import type { Run, RunStatus } from "../api/types.js";

const SYMBOL: Record<RunStatus, string> = { running: "●", completed: "✓", failed: "✕", cancelled: "■" };

/**
 * A run's status in words and a symbol (never by colour alone); a run the server's code cannot go on
 * with (its record's `blocked`) also says "blocked", with the reason in its title.
 */
export function StatusBadge({ status, blocked }: { status: RunStatus; blocked?: Run["blocked"] }) {
  return (
    <>
      <span className={`status status-${status}`}>
        <span aria-hidden="true">{SYMBOL[status]}</span> {status}
      </span>
      {blocked && (
        <span className="status status-blocked" title={`${blocked.code}: ${blocked.detail}`}>
          <span aria-hidden="true">⚠</span> blocked
        </span>
      )}
    </>
  );
}
