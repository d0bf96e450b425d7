/**
 * Whether a writer's commits are failing: its last commit failed and none succeeded since. Listeners
 * hear each change, so that runs stop starting steps whose results could not be stored meanwhile.
 */
export class CommitHealth {
  #failure: unknown = null;
  readonly #listeners: ((failing: boolean) => void)[] = [];

  /** The last commit's error while failing; else null. */
  get failure(): unknown {
    return this.#failure;
  }

  /** Calls `listener` with true when commits begin failing, false when one succeeds again. */
  onChange(listener: (failing: boolean) => void): void {
    this.#listeners.push(listener);
  }

  /** The outcome of a commit: its error, or null when it was durable. */
  set(failure: unknown): void {
    const was = this.#failure !== null;
    this.#failure = failure;
    if (was !== (failure !== null)) for (const listener of this.#listeners) listener(!was);
  }
}
