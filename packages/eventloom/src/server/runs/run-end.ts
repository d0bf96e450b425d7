import { LeaseLostError } from "../../stores/leases.js";
import type { Ownership } from "../cluster/ownership.js";
import type { CommitWriter } from "./commit-writer.js";
import type { EndWaiters } from "./end-waiters.js";
import type { LiveRun } from "./live-run.js";

export interface RunEndContext {
  writer: CommitWriter;
  ownership: Ownership;
  endWaiters: EndWaiters;
  /** Clears the ended run's idle timer and forgets it here; false when it was no longer the current one. */
  forget(run: LiveRun): boolean;
  /** Once its final record is durable: tells those who wait on the run from elsewhere (a parent run). */
  ended?(run: LiveRun): unknown;
}

/**
 * After a run ended in memory: waits for its final record to be durable, forgets it, gives its
 * ownership up and answers those waiting for its end. When its end was refused because another
 * process has the handler, they wait for the store's record instead: only the store has the answer.
 * `c` is the manager's, the same for all its runs.
 */
export function afterRunEnd(run: LiveRun, c: RunEndContext): void {
  // Callbacks, not a promise: this runs once for every run.
  c.writer.whenDurable(
    run.handlerId,
    () => ended(run, c, null),
    (error: unknown) => ended(run, c, error),
  );
}

/**
 * Runs in a microtask of its own (see `whenDurable`): a fault here surfaces as an unhandled
 * rejection, as it did when the run's end was an async function.
 */
function ended(run: LiveRun, c: RunEndContext, failure: unknown): void {
  try {
    const handlerId = run.handlerId;
    const forgotten = c.forget(run);
    if (failure === null) c.ended?.(run);
    if (forgotten && failure === null) void c.ownership.release(handlerId);
    if (failure instanceof LeaseLostError) c.endWaiters.leave(handlerId);
    else c.endWaiters.settle(handlerId, failure);
  } catch (error) {
    void Promise.reject(error);
  }
}
