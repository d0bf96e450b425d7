import { ChildWorkflowEnded } from "../../core/child-runs.js";
import type { HandlerRecord, InboxItem } from "../../stores/store.js";

/**
 * The news of a child run's end for its parent's inbox: committed with the child's final record, so
 * that the end and the parent's way to hear of it are durable together (whatever happens to the
 * process next, the parent takes it in when it runs again). Null for a run without a parent or not
 * ended. The item's id is the child's run: a record written twice adds one item.
 */
export function childEndNews(record: HandlerRecord): { handlerId: string; item: InboxItem } | null {
  const parentId = record.parentHandlerId;
  if (!parentId || record.status === "running") return null;
  const event = ChildWorkflowEnded.create({
    handler_id: record.handlerId,
    status: record.status,
    result: record.result ?? null,
    error: record.error ?? null,
  });
  return {
    handlerId: parentId,
    item: {
      id: `child-ended:${record.handlerId}:${record.runId}`,
      event,
      step: null,
      receivedAt: record.completedAt ?? record.updatedAt,
    },
  };
}
