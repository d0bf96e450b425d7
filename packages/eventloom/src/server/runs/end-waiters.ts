interface Deferred {
  resolve: () => void;
  reject: (error: unknown) => void;
}

/** Promises that settle when a handler's run has ended and its final record is durable. */
export class EndWaiters {
  readonly #waiters = new Map<string, Set<Deferred>>();

  /** Settles when {@link settle} is called for the handler. */
  wait(handlerId: string): Promise<void> {
    return new Promise((resolve, reject) => {
      let set = this.#waiters.get(handlerId);
      if (!set) {
        set = new Set();
        this.#waiters.set(handlerId, set);
      }
      set.add({ resolve, reject });
    });
  }

  /** Resolves the handler's waiters, or rejects them with `error` when it is not null. */
  settle(handlerId: string, error: unknown): void {
    const set = this.#waiters.get(handlerId);
    if (!set) return;
    this.#waiters.delete(handlerId);
    for (const d of set) {
      if (error === null) d.resolve();
      else d.reject(error);
    }
  }

  /** Rejects every waiter with `error`. */
  rejectAll(error: unknown): void {
    for (const id of [...this.#waiters.keys()]) this.settle(id, error);
  }
}
