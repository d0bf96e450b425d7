import { WorkflowError } from "../../core/index.js";
import type { RunState } from "../../core/run-state.js";
import type { FencedCommitBatch } from "../../stores/leases.js";
import type { HandlerRecord, Store } from "../../stores/store.js";
import { fence, type Ownership } from "../cluster/ownership.js";
import type { ServerLogger } from "../logger.js";

export interface ResumeGuardContext {
  store: Store;
  ownership: Pick<Ownership, "shared" | "fences">;
  logger: ServerLogger;
  maxResumeAttempts: number;
  now: () => string;
}

/** What to do with a stored run about to be resumed. */
export type ResumeDecision =
  | { resume: true; attempts: number }
  | { resume: false; abandon: WorkflowError; attempts: number };

/**
 * Counts a resume durably before it happens, so that a run whose code takes the process down (an
 * uncaught error in a timer callback, a native crash) is not resumed forever: once it has been
 * resumed `maxResumeAttempts` times without finishing a step, it is abandoned (failed with
 * RESUME_CRASH_LOOP) instead. An idle run runs no code when resumed, so it is not counted.
 */
export async function guardResume(
  record: HandlerRecord,
  state: RunState,
  c: ResumeGuardContext,
): Promise<ResumeDecision> {
  const attempts = record.resumeAttempts ?? 0;
  if (state.idle) return { resume: true, attempts };
  if (attempts >= c.maxResumeAttempts) {
    const steps = [...new Set(Object.values(state.inFlight).map((item) => item.step))];
    const where = steps.length > 0 ? ` (in step ${steps.map((s) => `"${s}"`).join(", ")})` : "";
    const abandon = new WorkflowError(
      "RESUME_CRASH_LOOP",
      `RESUME_CRASH_LOOP: the run took the server process down each of the ${attempts} times it was resumed${where}; it is no longer resumed`,
    );
    c.logger.error("stopped resuming a run that took the process down each time it was resumed", {
      handlerId: record.handlerId,
      workflowName: record.workflowName,
      resumeAttempts: attempts,
      steps,
    });
    return { resume: false, abandon, attempts };
  }
  const batch: FencedCommitBatch = {
    handlers: [{ ...record, resumeAttempts: attempts + 1, blocked: null, updatedAt: c.now() }],
  };
  // Durable before the run's code runs again: a crash during this resume is counted.
  await c.store.commit(fence(batch, c.ownership, [record.handlerId]));
  return { resume: true, attempts: attempts + 1 };
}
