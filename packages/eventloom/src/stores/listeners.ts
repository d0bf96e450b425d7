import type { CommitBatch } from "./store.js";

type Listener = (handlerIds: readonly string[]) => void;

/** The subscribers of one store; a listener that throws does not affect the write or other listeners. */
export class StoreListeners {
  readonly #listeners = new Set<Listener>();

  add(listener: Listener): () => void {
    // A wrapper per subscription, so that subscribing the same function twice gives two subscriptions.
    const entry: Listener = (ids) => listener(ids);
    this.#listeners.add(entry);
    return () => {
      this.#listeners.delete(entry);
    };
  }

  notify(handlerIds: readonly string[]): void {
    if (handlerIds.length === 0 || this.#listeners.size === 0) return;
    const ids = Object.freeze([...handlerIds]);
    for (const listener of [...this.#listeners]) {
      try {
        listener(ids);
      } catch {
        // The write is already durable; a failing listener must not turn it into a rejection.
      }
    }
  }

  clear(): void {
    this.#listeners.clear();
  }
}

/**
 * The handlers a batch gives a new record, new events or an inbox item, each once, in the order they
 * appear.
 */
export function changedHandlerIds(batch: CommitBatch): string[] {
  const ids = new Set<string>();
  for (const record of batch.handlers ?? []) ids.add(record.handlerId);
  for (const group of batch.events ?? []) if (group.events.length > 0) ids.add(group.handlerId);
  for (const add of batch.inboxAdd ?? []) ids.add(add.handlerId);
  return [...ids];
}
