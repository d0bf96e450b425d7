import type { WorkflowEvent } from "../../core/index.js";
import type { StartEventInfo } from "../../protocol/index.js";
import type { Store } from "../../stores/store.js";

// A run's start event, kept beside its handler (not in its state, which every commit rewrites) so
// that GET /handlers/{handler_id} can show it and a re-run can start from it. The run manager hands
// it to the commit writer when a run starts: it goes in with the handler's first record.

/** The start event as a store keeps it (see `CommitBatch.startEvents`). */
export function startEventJson(event: WorkflowEvent): string {
  return JSON.stringify({ type: event.type, qualifiedName: event.qualifiedName, data: event.data });
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
