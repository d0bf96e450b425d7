import type { WorkflowEvent } from "../core/index.js";
import type { FencedCommitBatch } from "../stores/leases.js";
import type { InboxItem, Store } from "../stores/store.js";
import type { LiveRun } from "./live-run.js";
import type { ServerLogger } from "./logger.js";

/** The type of the inbox item a process writes to ask a handler's owner to cancel it. */
export const CANCEL_REQUEST_TYPE = "workflows.server.CancelRequest";

/** An inbox item asking for cancellation (not an event of any workflow). */
export function cancelRequest(): WorkflowEvent {
  return { type: CANCEL_REQUEST_TYPE, qualifiedName: CANCEL_REQUEST_TYPE, data: {} };
}

export interface InboxDeliveryOptions {
  store: Store;
  logger: ServerLogger;
  /** The run in this process's memory, if it is owned here. */
  owned(handlerId: string): LiveRun | undefined;
  /** Notes a change of the run so that its next commit acknowledges what was delivered. */
  touch(run: LiveRun): void;
}

/**
 * Delivers the events other processes recorded in a handler's inbox into the run this process owns,
 * and acknowledges them (`inboxDone`) in the same commit as the state that holds them: an item is
 * deleted only once its effect is durable. Woken by the store's change notifications; a process's
 * own commits also notify, and are told apart by counting (one notification per commit it sends).
 */
export class InboxDelivery {
  readonly #o: InboxDeliveryOptions;
  /** Items delivered into memory and not yet acknowledged by a durable commit, per handler. */
  readonly #delivered = new Map<string, Set<string>>();
  /** What the commit in flight acknowledges, per handler. */
  readonly #inFlight = new Map<string, string[]>();
  /** Notifications of this process's own commit still to come, per handler. */
  readonly #ownNotices = new Map<string, number>();
  readonly #draining = new Map<string, Promise<void>>();
  readonly #again = new Set<string>();

  constructor(options: InboxDeliveryOptions) {
    this.#o = options;
  }

  /** The store's change listener: wakes the owned runs whose inbox may have grown. */
  notified(handlerIds: readonly string[]): void {
    for (const id of handlerIds) {
      if (!this.#o.owned(id)) continue;
      const own = this.#ownNotices.get(id) ?? 0;
      if (own > 0) {
        // This process's own commit (if it was another's, the own one comes later and drains then).
        if (own === 1) this.#ownNotices.delete(id);
        else this.#ownNotices.set(id, own - 1);
        continue;
      }
      void this.drain(id);
    }
  }

  /** Reads the handler's inbox and delivers what is new into its run (serialized per handler). */
  drain(handlerId: string): Promise<void> {
    const running = this.#draining.get(handlerId);
    if (running) {
      this.#again.add(handlerId);
      return running;
    }
    const promise = (async () => {
      try {
        do {
          this.#again.delete(handlerId);
          await this.#drainOnce(handlerId);
        } while (this.#again.has(handlerId));
      } catch (error) {
        this.#o.logger.warn("could not read a handler's inbox; the next notification retries", {
          handlerId,
          error,
        });
      } finally {
        this.#draining.delete(handlerId);
      }
    })();
    this.#draining.set(handlerId, promise);
    return promise;
  }

  async #drainOnce(handlerId: string): Promise<void> {
    if (!this.#o.owned(handlerId)) return;
    const items = await this.#o.store.readInbox(handlerId);
    const run = this.#o.owned(handlerId);
    if (!run?.handler || items.length === 0) return;
    let delivered = this.#delivered.get(handlerId);
    if (!delivered) {
      delivered = new Set();
      this.#delivered.set(handlerId, delivered);
    }
    let touched = false;
    for (const item of items) {
      if (delivered.has(item.id)) continue;
      delivered.add(item.id);
      touched = true;
      this.#deliver(run, item);
    }
    if (touched) this.#o.touch(run);
  }

  #deliver(run: LiveRun, item: InboxItem): void {
    const handler = run.handler;
    if (!handler || run.state.status !== "running") return;
    try {
      if (item.event.type === CANCEL_REQUEST_TYPE) void handler.cancel().catch(() => undefined);
      else handler.sendEvent(item.event, item.step === null ? {} : { step: item.step });
    } catch (error) {
      // The sender was answered when the item was recorded; an event the run refuses is dropped.
      this.#o.logger.warn("an event sent through another process was refused by the run", {
        handlerId: run.handlerId,
        itemId: item.id,
        error,
      });
    }
  }

  /** Adds the acknowledgements of delivered items to a batch being cut. */
  prepare(batch: FencedCommitBatch, handlerIds: readonly string[]): void {
    const done: { handlerId: string; ids: string[] }[] = [];
    for (const id of handlerIds) {
      // Still in flight from the last batch: that commit failed, and a notification may have been
      // taken for its own. Look again.
      if (this.#inFlight.has(id)) void this.drain(id);
      this.#ownNotices.set(id, 1);
      const delivered = this.#delivered.get(id);
      if (delivered && delivered.size > 0) {
        const ids = [...delivered];
        done.push({ handlerId: id, ids });
        this.#inFlight.set(id, ids);
      } else {
        this.#inFlight.set(id, []);
      }
    }
    if (done.length > 0) batch.inboxDone = [...(batch.inboxDone ?? []), ...done];
  }

  /** The batch holding these handlers is durable: their acknowledged items are gone from the inbox. */
  committed(handlerIds: readonly string[]): void {
    for (const id of handlerIds) {
      this.#ownNotices.delete(id);
      const sent = this.#inFlight.get(id);
      this.#inFlight.delete(id);
      const delivered = this.#delivered.get(id);
      if (!sent || !delivered) continue;
      for (const itemId of sent) delivered.delete(itemId);
      if (delivered.size === 0) this.#delivered.delete(id);
    }
  }

  /** The run left this process: what it held in memory is another owner's to deliver. */
  forget(handlerId: string): void {
    this.#delivered.delete(handlerId);
    this.#inFlight.delete(handlerId);
    this.#ownNotices.delete(handlerId);
  }
}
