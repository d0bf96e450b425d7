/**
 * Tells a store's change notifications about this process's own commits apart from other processes'
 * writes (events appended to an inbox), so that a run's inbox is read only when someone else may
 * have written to it, not after each of its own commits.
 *
 * A store notifies its own commits synchronously before the commit resolves, so: each handler of a
 * batch expects one own notification; the first notification of it while expected is taken for the
 * own one. If another process's came first, the own one comes later and counts as foreign instead:
 * one look either way. A batch that fails sends none: its handlers are looked at again at the next
 * cut, in case a foreign notification was taken for the own one.
 */
export class OwnNotices {
  readonly #expected = new Set<string>();
  readonly #unconfirmed = new Set<string>();

  /** A batch of these handlers is being committed. Returns the handlers to look at again. */
  cut(handlerIds: readonly string[]): string[] {
    const again: string[] = [];
    for (const id of handlerIds) {
      if (this.#unconfirmed.has(id)) again.push(id);
      this.#unconfirmed.add(id);
      this.#expected.add(id);
    }
    return again;
  }

  /** The batch holding these handlers is durable (its own notifications have been delivered). */
  committed(handlerIds: readonly string[]): void {
    for (const id of handlerIds) {
      this.#unconfirmed.delete(id);
      this.#expected.delete(id);
    }
  }

  /** The handlers of a notification that other processes may have changed. */
  foreign(handlerIds: readonly string[]): string[] {
    const out: string[] = [];
    for (const id of handlerIds) {
      if (this.#expected.delete(id)) continue;
      out.push(id);
    }
    return out;
  }
}
