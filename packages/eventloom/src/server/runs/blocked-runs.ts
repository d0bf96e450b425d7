import { isoTime } from "../../core/clock.js";
import { type Clock, WorkflowError } from "../../core/index.js";
import type { FencedCommitBatch } from "../../stores/leases.js";
import type { HandlerRecord, Store } from "../../stores/store.js";
import { fence, type Ownership } from "../cluster/ownership.js";
import type { ServerLogger } from "../logger.js";
import type { BlockReason } from "./fit-check.js";

/**
 * Running handlers that the code now loaded cannot resume, with the reason (see fit-check.ts). They
 * stay `running` in the store: sending to one is 409 HANDLER_BLOCKED, cancelling one cancels it in
 * the store without running it. This process's code does not change while it lives, so a handler it
 * found blocked stays blocked here until it is cancelled, or resumed by a process whose code fits.
 */
export class BlockedRuns {
  readonly #reasons = new Map<string, BlockReason>();

  /** Notes the reason; true when it is new to this process (then it is worth a log line). */
  set(handlerId: string, reason: BlockReason): boolean {
    const known = this.#reasons.get(handlerId);
    this.#reasons.set(handlerId, reason);
    return known?.code !== reason.code || known.detail !== reason.detail;
  }

  has(handlerId: string): boolean {
    return this.#reasons.has(handlerId);
  }

  delete(handlerId: string): void {
    this.#reasons.delete(handlerId);
  }

  /** The 409 HANDLER_BLOCKED for a blocked handler; null when it is not blocked. */
  error(handlerId: string): WorkflowError | null {
    const reason = this.#reasons.get(handlerId);
    if (reason === undefined) return null;
    return new WorkflowError(
      "HANDLER_BLOCKED",
      `Handler "${handlerId}" is running but cannot go on with the code now loaded (${reason.code}): ${reason.detail}. Cancel it, or start the server with code that fits`,
    );
  }
}

export interface BlockRunContext {
  store: Store;
  ownership: Ownership;
  logger: ServerLogger;
  clock: Clock;
  blocked: BlockedRuns;
}

/**
 * Blocks a stored running handler this process holds (its ownership acquired): noted in memory,
 * written to its record's `blocked` (the same reason keeps its `since`), one log line the first time
 * this process finds it, and its ownership given up, so that a process whose code fits may take it.
 * `record` is the record to write (with `rewrite`, even when it holds this reason already); a failed
 * write is logged and left for the next look at it.
 */
export async function blockRun(
  record: HandlerRecord,
  reason: BlockReason,
  c: BlockRunContext,
  rewrite = false,
): Promise<void> {
  const { handlerId } = record;
  if (c.blocked.set(handlerId, reason)) {
    c.logger.warn(
      "run blocked: it cannot go on with the code now loaded; cancel it, or deploy code that fits",
      {
        handlerId,
        workflowName: record.workflowName,
        code: reason.code,
        detail: reason.detail,
      },
    );
  }
  const same = record.blocked?.code === reason.code && record.blocked.detail === reason.detail;
  try {
    if (!same || rewrite) {
      const since = same && record.blocked ? record.blocked.since : isoTime(c.clock.now());
      const batch: FencedCommitBatch = { handlers: [{ ...record, blocked: { ...reason, since } }] };
      await c.store.commit(fence(batch, c.ownership, [handlerId]));
    }
  } catch (error) {
    c.logger.error("could not record that a run is blocked", { handlerId, error });
  } finally {
    await c.ownership.release(handlerId).catch(() => undefined);
  }
}
