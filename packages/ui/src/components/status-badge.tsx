import type { RunStatus } from "../api/types.js";

const SYMBOL: Record<RunStatus, string> = { running: "●", completed: "✓", failed: "✕", cancelled: "■" };

/** A run's status in words and a symbol (never by colour alone). */
export function StatusBadge({ status }: { status: RunStatus }) {
  return (
    <span className={`status status-${status}`}>
      <span aria-hidden="true">{SYMBOL[status]}</span> {status}
    </span>
  );
}
