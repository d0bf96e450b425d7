import { type Clock, WorkflowError, type WorkflowEvent } from "../../core/index.js";
import type { HandlerRecord, Store } from "../../stores/store.js";
import type { Ownership } from "../cluster/ownership.js";
import type { KeyWrite } from "../idempotency/key-write.js";
import type { BlockedRuns } from "./blocked-runs.js";
import { cancelStored } from "./cancel-stored.js";
import type { CommitWriter } from "./commit-writer.js";
import { cancelRequest } from "./inbox.js";
import type { LiveRun } from "./live-run.js";

export interface CancelContext {
  store: Store;
  writer: CommitWriter;
  ownership: Ownership;
  clock: Clock;
  blocked: BlockedRuns;
  live(handlerId: string): LiveRun | undefined;
  /** The run in memory or loaded; `remote` when another process runs it, null when none can. */
  locate(handlerId: string): Promise<LiveRun | "remote" | null>;
  toInbox(handlerId: string, event: WorkflowEvent, step: string | null, key?: () => KeyWrite): Promise<void>;
  /** Cancels a run waiting in its run limit's queue, in the store; false when it is not queued. */
  cancelQueued(record: HandlerRecord, key?: () => KeyWrite): Promise<boolean>;
  /** Forgets everything this process holds of the handler (its run, wake timer, pending writes). */
  forget(handlerId: string): void;
  onDeleted(handlerId: string): void;
}

/**
 * Cancels a running handler, wherever it runs: in memory here, through its owner's inbox, or, when
 * it is blocked (no code here can run it), in the store without running it. With `purge`, deletes
 * it (ended or not) and everything stored for it. Resolves once the cancellation is durable.
 */
export async function cancelRun(
  handlerId: string,
  purge: boolean,
  key: (() => KeyWrite) | undefined,
  c: CancelContext,
): Promise<"cancelled" | "deleted"> {
  const { store, writer, ownership } = c;
  // The key is written with the cancellation, or, with `purge`, with the deletion.
  const cancelKey = purge ? undefined : key;
  const live = c.live(handlerId);
  // A run that just started is live before its first record is durable.
  const record = live ? live.record() : await store.getHandler(handlerId);
  if (!record) throw new WorkflowError("HANDLER_NOT_FOUND", `Handler "${handlerId}" not found`);
  // A run waiting in its run limit's queue is cancelled in the store, where it is.
  const queued = record.status === "running" && (await c.cancelQueued(record, cancelKey));
  if (record.status === "running" && !queued) {
    const run = await c.locate(handlerId);
    if (run === "remote") {
      await c.toInbox(handlerId, cancelRequest(), null, cancelKey);
    } else if (run?.handler && run.state.status === "running") {
      // Attached in the cancellation's own turn (cancel changes the state before it awaits
      // anything): the key joins the commit that holds it.
      const cancelling = run.handler.cancel();
      if (cancelKey) writer.attachKey(run, cancelKey());
      await cancelling;
    } else if (run === null && c.blocked.has(handlerId)) {
      // Its code is gone: cancelled in the store, without running it, holding it meanwhile.
      const owned = ownership.acquire(handlerId);
      if (owned !== true && !(await owned)) {
        await c.toInbox(handlerId, cancelRequest(), null, cancelKey);
      } else {
        const latest = (await store.getHandler(handlerId)) ?? record;
        if (latest.status === "running") {
          await cancelStored(store, latest, c.clock.now(), ownership, cancelKey);
        }
        c.blocked.delete(handlerId);
        void ownership.release(handlerId);
      }
    }
    await writer.flush(handlerId);
  } else if (!queued && !purge) {
    throw new WorkflowError("HANDLER_ENDED", `Handler "${handlerId}" has already ended (${record.status})`);
  }
  if (!purge) return "cancelled";
  c.forget(handlerId);
  if (key) await key().through((record) => store.deleteHandler(handlerId, record));
  else await store.deleteHandler(handlerId);
  c.onDeleted(handlerId);
  return "deleted";
}
