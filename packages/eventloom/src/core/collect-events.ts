import type { EventDefinition, WorkflowEvent } from "./events.js";
import type { QueuedItem, RunState } from "./run-state.js";

/**
 * `ctx.collectEvents` on the state: buffers `event` for the item's step (once per item), then hands
 * the item one buffered event of each expected definition, or null while one is missing.
 */
export function collectInto(
  state: RunState,
  item: QueuedItem,
  event: WorkflowEvent,
  expected: readonly EventDefinition[],
): WorkflowEvent[] | null {
  const collected = state.collected;
  const me = item.id;
  const buffer = collected[item.step] ?? [];
  collected[item.step] = buffer;
  if (!buffer.some((b) => b.itemId === me)) buffer.push({ itemId: me, event, consumedBy: null });
  const used = new Set<number>();
  const found: WorkflowEvent[] = [];
  for (const def of expected) {
    const index = buffer.findIndex(
      (b, i) =>
        !used.has(i) && (b.consumedBy === null || b.consumedBy === me) && b.event.qualifiedName === def.name,
    );
    if (index < 0) return null;
    used.add(index);
    found.push((buffer[index] as { event: WorkflowEvent }).event);
  }
  for (const i of used) (buffer[i] as { consumedBy: string | null }).consumedBy = me;
  return found;
}

/** Drops the buffered events a finished item consumed. */
export function releaseCollected(state: RunState, item: QueuedItem): void {
  const buffer = state.collected[item.step];
  if (!buffer?.some((b) => b.consumedBy === item.id)) return;
  const left = buffer.filter((b) => b.consumedBy !== item.id);
  if (left.length > 0) state.collected[item.step] = left;
  else delete state.collected[item.step];
}
