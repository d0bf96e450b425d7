import type { HandlerRecord } from "../../stores/store.js";

/** What ties a run to others: the run that started it, the schedule that fired it, its run limit. */
export interface RunLinks {
  parentHandlerId: string | null;
  scheduleId: string | null;
  limitKey: string | null;
}

export const NO_LINKS: RunLinks = Object.freeze({ parentHandlerId: null, scheduleId: null, limitKey: null });

/** The links of a stored record (a run resumed from it keeps them). */
export function linksOf(record: HandlerRecord): RunLinks {
  return {
    parentHandlerId: record.parentHandlerId ?? null,
    scheduleId: record.scheduleId ?? null,
    limitKey: record.limitKey ?? null,
  };
}
