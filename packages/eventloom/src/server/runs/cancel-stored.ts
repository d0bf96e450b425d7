import { isoTime } from "../../core/clock.js";
import { WorkflowCancelledEvent } from "../../core/index.js";
import { cancelled, settle } from "../../core/run-outcomes.js";
import type { PublishedEvent } from "../../core/run-state.js";
import type { FencedCommitBatch } from "../../stores/leases.js";
import { eventRows, type HandlerRecord, type Store, stateJson } from "../../stores/store.js";
import { fence, type Ownership } from "../cluster/ownership.js";
import type { KeyWrite } from "../idempotency/key-write.js";
import { childEndNews } from "./child-end.js";

/**
 * Cancels a stored run that the code now loaded cannot resume (its workflow or a step it needs is
 * gone), without running it: its state is settled as cancelled, the cancellation event is appended
 * to its stream and its record becomes `cancelled`, in one commit.
 */
export async function cancelStored(
  store: Store,
  record: HandlerRecord,
  now: number,
  ownership: Pick<Ownership, "shared" | "fences">,
  key?: () => KeyWrite,
  inboxDone?: readonly string[],
): Promise<void> {
  const state = await store.loadState(record.handlerId);
  const at = isoTime(now);
  const batch: FencedCommitBatch = {
    handlers: [
      {
        ...record,
        status: "cancelled",
        result: null,
        error: cancelled().error,
        updatedAt: at,
        completedAt: at,
        resumeAttempts: 0,
        blocked: null,
      },
    ],
  };
  if (state) {
    const outcome = cancelled();
    settle(state, outcome);
    const event: PublishedEvent = {
      sequence: Math.max(state.nextSequence, (await store.lastSequence(record.handlerId)) + 1),
      type: WorkflowCancelledEvent.type,
      qualifiedName: WorkflowCancelledEvent.name,
      types: [...WorkflowCancelledEvent.lineage],
      value: outcome.stopEvent.data,
      internal: false,
      timestamp: at,
    };
    state.nextSequence = event.sequence + 1;
    batch.events = [{ handlerId: record.handlerId, events: eventRows([event]) }];
    batch.states = [{ handlerId: record.handlerId, json: stateJson(state) }];
  }
  const news = childEndNews(batch.handlers?.[0] as HandlerRecord);
  if (news) batch.inboxAdd = [news];
  if (inboxDone?.length) batch.inboxDone = [{ handlerId: record.handlerId, ids: [...inboxDone] }];
  fence(batch, ownership, [record.handlerId]);
  if (key) await key().through((record) => store.commit({ ...batch, keys: [record] }));
  else await store.commit(batch);
}
