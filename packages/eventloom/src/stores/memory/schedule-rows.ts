import type { ScheduleClaim, ScheduleRow } from "../store.js";

/** The memory store's schedules table: the last fire time claimed of each schedule. */
export class ScheduleRows {
  readonly #rows = new Map<string, ScheduleRow>();

  /**
   * Claims `claim.fireAt` when it is later than the row's; `write` (synchronous, throwing before it
   * changes anything) writes the handler and its start event, before the row takes the claim.
   */
  claim(claim: ScheduleClaim, write: () => void): boolean {
    const row = this.#rows.get(claim.scheduleId);
    if (row && row.lastFireAt >= claim.fireAt) return false;
    write();
    const lastHandlerId = claim.handler?.handlerId ?? null;
    this.#rows.set(claim.scheduleId, {
      scheduleId: claim.scheduleId,
      lastFireAt: claim.fireAt,
      lastHandlerId,
    });
    return true;
  }

  list(scheduleIds: readonly string[]): ScheduleRow[] {
    return scheduleIds.flatMap((id) => {
      const row = this.#rows.get(id);
      return row ? [{ ...row }] : [];
    });
  }
}
