import type { HandlerRecord } from "../store.js";
import { compareText } from "./records.js";

/** What the queue reads of a memory store's handler: its record as JSON text (rewritten on admission). */
interface Entry {
  status: string;
  json: string;
}

/** The running handlers of `limitKey`, oldest first (by startedAt, then handlerId). */
function runningOf(
  handlers: Map<string, Entry>,
  limitKey: string,
): { entry: Entry; record: HandlerRecord }[] {
  const found: { entry: Entry; record: HandlerRecord }[] = [];
  for (const entry of handlers.values()) {
    if (entry.status !== "running") continue;
    const record = JSON.parse(entry.json) as HandlerRecord;
    if (record.limitKey === limitKey) found.push({ entry, record });
  }
  return found.sort(
    (a, b) =>
      compareText(a.record.startedAt, b.record.startedAt) ||
      compareText(a.record.handlerId, b.record.handlerId),
  );
}

/** `Store.admitQueued` over a memory store's handlers (atomic: the store is synchronous). */
export function admitQueued(handlers: Map<string, Entry>, limitKey: string, limit: number): string[] {
  const running = runningOf(handlers, limitKey);
  let free = limit - running.filter((r) => !r.record.queued).length;
  const admitted: string[] = [];
  for (const { entry, record } of running) {
    if (free <= 0) break;
    if (!record.queued) continue;
    entry.json = JSON.stringify({ ...record, queued: false });
    admitted.push(record.handlerId);
    free--;
  }
  return admitted;
}

/** `Store.queuePosition`. */
export function queuePosition(handlers: Map<string, Entry>, handlerId: string): number | null {
  const entry = handlers.get(handlerId);
  if (entry?.status !== "running") return null;
  const record = JSON.parse(entry.json) as HandlerRecord;
  if (!record.queued || !record.limitKey) return null;
  const queue = runningOf(handlers, record.limitKey).filter((r) => r.record.queued);
  return queue.findIndex((r) => r.record.handlerId === handlerId) + 1;
}

/** `Store.queuedKeys`. */
export function queuedKeys(handlers: Map<string, Entry>, limit: number): string[] {
  const keys = new Set<string>();
  for (const entry of handlers.values()) {
    if (keys.size >= limit) break;
    if (entry.status !== "running") continue;
    const record = JSON.parse(entry.json) as HandlerRecord;
    if (record.queued && record.limitKey) keys.add(record.limitKey);
  }
  return [...keys];
}
