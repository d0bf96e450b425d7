import type { WorkflowEvent } from "../../core/index.js";
import type { StartEventInfo } from "../../protocol/index.js";
import type { Store } from "../../stores/store.js";

// A run's start event, kept beside its handler (not in its state, which every commit rewrites) so
// that GET /handlers/{handler_id} can show it and a re-run can start from it.

/** Keeps the event a run started with; nothing on a store that cannot keep it. */
export async function keepStartEvent(store: Store, handlerId: string, event: WorkflowEvent): Promise<void> {
  const kept = { type: event.type, qualifiedName: event.qualifiedName, data: event.data };
  await store.putStartEvent?.(handlerId, JSON.stringify(kept));
}

/** Keeps the start event a start request names: its `keep`, else its `start` unless it is a fork. */
export function keepRequestedStart(
  store: Store,
  handlerId: string,
  request: { start: WorkflowEvent; fork?: boolean; keep?: WorkflowEvent | null },
): Promise<void> {
  const keep = request.keep === undefined ? (request.fork ? null : request.start) : request.keep;
  return keep ? keepStartEvent(store, handlerId, keep) : Promise.resolve();
}

/** The start event kept for a handler's latest run; null when there is none. */
export async function startEventOf(store: Store, handlerId: string): Promise<StartEventInfo | null> {
  const json = await store.getStartEvent?.(handlerId);
  if (!json) return null;
  const kept = JSON.parse(json) as { type: string; qualifiedName: string; data: Record<string, unknown> };
  return { type: kept.type, qualifiedName: kept.qualifiedName, value: kept.data };
}

/** The kept start event as a WorkflowEvent, to start a run from it again. */
export async function storedStartEvent(store: Store, handlerId: string): Promise<WorkflowEvent | null> {
  const info = await startEventOf(store, handlerId);
  return info && { type: info.type, qualifiedName: info.qualifiedName, data: info.value };
}
