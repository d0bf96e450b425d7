import { ReleasingMap } from "../releasing-map.js";

/**
 * Wakes the stream readers of a handler after its events became durable: this process's commits and,
 * through `store.subscribe`, other processes'. A listener is registered before a reader reads the
 * store, so that no commit between the read and the wait goes unnoticed.
 */
export class HandlerSignals {
  readonly #listeners = new ReleasingMap<string, Set<() => void>>();

  /** Calls `fn` (once) at the next change of the handler. Returns an unsubscribe function. */
  once(handlerId: string, fn: () => void): () => void {
    let set = this.#listeners.get(handlerId);
    if (!set) {
      set = new Set();
      this.#listeners.set(handlerId, set);
    }
    const entry = () => fn();
    set.add(entry);
    return () => {
      const current = this.#listeners.get(handlerId);
      if (!current) return;
      current.delete(entry);
      if (current.size === 0) this.#listeners.delete(handlerId);
    };
  }

  notify(handlerIds: readonly string[]): void {
    for (const id of handlerIds) {
      const set = this.#listeners.get(id);
      if (!set) continue;
      this.#listeners.delete(id);
      for (const fn of set) fn();
    }
  }

  /** Listening handlers (for tests of resource release). */
  get size(): number {
    return this.#listeners.size;
  }
}
