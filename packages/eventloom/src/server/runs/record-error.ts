import type { RunOutcome } from "../../core/index.js";

/**
 * The handler record's `error` (a message, per the wire): for a failed step it names the step, the
 * attempts and the error's class, as `Step "charge" failed after 3 attempt(s): TypeError: declined`;
 * other outcomes keep their message (a timeout, a cancel).
 */
export function recordError(outcome: RunOutcome | null): string | null {
  if (outcome === null) return null;
  if (outcome.failedStep === null || outcome.error === null) return outcome.error;
  const data = outcome.stopEvent.data as { error?: { name?: unknown }; attempts?: unknown };
  const name = typeof data.error?.name === "string" && data.error.name ? data.error.name : "Error";
  const attempts = typeof data.attempts === "number" ? data.attempts : 1;
  // No attempt failed: the run was given up before its step ran (RESUME_CRASH_LOOP), which says why.
  if (attempts === 0) return outcome.error;
  return `Step "${outcome.failedStep}" failed after ${attempts} attempt(s): ${name}: ${outcome.error}`;
}
