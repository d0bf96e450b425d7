/** A `flush()` call (or a `whenDurable` callback) waiting for the changes noted before it to be durable. */
interface Waiter {
  generation: number;
  /** Set for a waiter on one handler's changes: it fails when that handler's changes are dropped. */
  handlerId: string | null;
  resolve: () => void;
  reject: (error: unknown) => void;
}

/**
 * The commit writer's waiters, in generation order (generations only grow). A waiter is resolved
 * only once its generation is durable, and failed when its handler's changes are dropped: dropped
 * changes are never reported durable.
 */
export class FlushWaiters {
  #waiters: Waiter[] = [];

  wait(generation: number, handlerId: string | null): Promise<void> {
    return new Promise((resolve, reject) => this.call(generation, handlerId, resolve, reject));
  }

  /** As `wait`, with callbacks instead of a promise (a run's end makes no promise for it). */
  call(
    generation: number,
    handlerId: string | null,
    resolve: () => void,
    reject: (error: unknown) => void,
  ): void {
    this.#waiters.push({ generation, handlerId, resolve, reject });
  }

  /** Resolves every waiter up to `durable` (from the front). */
  settle(durable: number): void {
    let count = 0;
    while (count < this.#waiters.length && (this.#waiters[count] as Waiter).generation <= durable) count++;
    if (count === 0) return;
    for (const w of this.#waiters.splice(0, count)) w.resolve();
  }

  /** Fails the waiters on this handler's changes. */
  rejectHandler(handlerId: string, why: unknown): void {
    if (!this.#waiters.some((w) => w.handlerId === handlerId)) return;
    const failed = this.#waiters.filter((w) => w.handlerId === handlerId);
    this.#waiters = this.#waiters.filter((w) => w.handlerId !== handlerId);
    for (const w of failed) w.reject(why);
  }

  /** Fails every waiter up to `generation` (the commit holding their changes failed). */
  rejectUpTo(generation: number, why: unknown): void {
    const failed = this.#waiters.filter((w) => w.generation <= generation);
    this.#waiters = this.#waiters.filter((w) => w.generation > generation);
    for (const w of failed) w.reject(why);
  }
}
