import { WorkflowError, type WorkflowEvent } from "../../core/index.js";
import type { Ownership } from "../cluster/ownership.js";
import type { KeyWrite } from "../idempotency/key-write.js";
import type { BlockedRuns } from "./blocked-runs.js";
import type { CommitWriter } from "./commit-writer.js";
import type { LiveRun } from "./live-run.js";

/** What delivering an outside event needs of the run manager. */
export interface SendContext {
  ownership: Pick<Ownership, "shared">;
  writer: Pick<CommitWriter, "holds" | "attachKey" | "flush">;
  blocked: BlockedRuns;
  live(handlerId: string): LiveRun | undefined;
  /** In memory, being loaded, or with changes the writer holds. */
  busy(handlerId: string): boolean;
  /** The run here (loaded if need be), "remote" when another process holds it, null when none runs. */
  locate(handlerId: string): Promise<LiveRun | "remote" | null>;
  /** Writes the event to the handler's inbox, for whichever process holds it. */
  toInbox(handlerId: string, event: WorkflowEvent, step: string | null, key?: () => KeyWrite): Promise<void>;
}

const ended = (handlerId: string) =>
  new WorkflowError("HANDLER_ENDED", `Handler "${handlerId}" has already ended`);

/** Delivers an outside event to a running handler; resolves once it is durable (with `key`, when given). */
export async function sendOutside(
  c: SendContext,
  handlerId: string,
  event: WorkflowEvent,
  step: string | null,
  key?: () => KeyWrite,
): Promise<void> {
  // Out of memory but with changes the writer still holds: it ended here and its end is not
  // durable yet; the store's copy is stale and must not be loaded.
  if (!c.live(handlerId) && c.writer.holds(handlerId)) throw ended(handlerId);
  // On a shared store, a handler not here goes through its inbox first: one statement tells whether
  // another process holds it (2 round trips in all with the route's read of the record).
  if (c.ownership.shared && !c.busy(handlerId) && !c.blocked.has(handlerId)) {
    return c.toInbox(handlerId, event, step, key);
  }
  const run = await c.locate(handlerId);
  if (run === "remote") return c.toInbox(handlerId, event, step, key);
  // An ended run may still be in memory until its final record is durable: it takes nothing more.
  if (!run?.handler || run.state.status !== "running") throw c.blocked.error(handlerId) ?? ended(handlerId);
  run.handler.sendEvent(event, step === null ? {} : { step });
  if (key) c.writer.attachKey(run, key());
  await c.writer.flush(handlerId);
}
