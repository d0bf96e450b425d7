import { randomId } from "../../core/clock.js";
import type { Clock, WorkflowEvent } from "../../core/index.js";
import type { Store } from "../../stores/store.js";
import type { Ownership } from "../cluster/ownership.js";
import type { KeyWrite } from "../idempotency/key-write.js";
import type { ServerLogger } from "../logger.js";
import type { CommitWriter } from "./commit-writer.js";
import type { LiveRun } from "./live-run.js";

/** The inbox item that asks a handler's owner process to cancel it. */
export const CANCEL_EVENT = "workflows.server.CancelRequested";

/** The inbox form of a cancellation. */
export const cancelRequest = (): WorkflowEvent => ({
  type: "CancelRequested",
  qualifiedName: CANCEL_EVENT,
  data: {},
});

/**
 * Writes an outside event to a handler's inbox, for the process that holds the handler; when nobody
 * does, `acquire` takes the run in here. The event is durable once written: a failure to take the run
 * in after it is not the sender's (a takeover pass resumes a handler with inbox items nobody holds).
 */
export async function sendToInbox(
  c: { ownership: Ownership; clock: Clock; logger: ServerLogger; acquire(id: string): Promise<unknown> },
  handlerId: string,
  event: WorkflowEvent,
  step: string | null,
  key?: () => KeyWrite,
): Promise<void> {
  const item = { id: randomId(), event, step, receivedAt: new Date(c.clock.now()).toISOString() };
  if (await c.ownership.toInbox(handlerId, item, key?.())) return;
  await c
    .acquire(handlerId)
    .catch((error: unknown) =>
      c.logger.warn("could not take in a run with a new inbox item", { handlerId, error }),
    );
}

/**
 * Takes the items other processes wrote to the run's inbox into the run (events, cancellations),
 * each once; the writer deletes them in the commit that holds the change they made. `current` says
 * whether the run is still the one this process runs for its handler.
 */
export async function drainInbox(
  run: LiveRun,
  o: { store: Store; writer: CommitWriter; logger: ServerLogger; current: () => boolean },
): Promise<void> {
  let items: Awaited<ReturnType<Store["readInbox"]>>;
  try {
    items = await o.store.readInbox(run.handlerId);
  } catch (error) {
    o.logger.warn("could not read a handler's inbox", { handlerId: run.handlerId, error });
    return;
  }
  const taken: string[] = [];
  for (const item of items) {
    if (run.inboxTaken.has(item.id) || !o.current()) continue;
    run.inboxTaken.add(item.id);
    taken.push(item.id);
    try {
      if (item.event.qualifiedName === CANCEL_EVENT) {
        if (run.state.status === "running") await run.handler?.cancel();
      } else {
        run.handler?.sendEvent(item.event, item.step === null ? {} : { step: item.step });
      }
    } catch (error) {
      o.logger.warn("an inbox event was refused by its run", { handlerId: run.handlerId, error });
    }
  }
  o.writer.inboxTaken(run.handlerId, taken);
}
