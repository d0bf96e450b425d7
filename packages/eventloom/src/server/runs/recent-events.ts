import type { EventRow } from "../../stores/store.js";

/**
 * The events this process committed last, for each handler a stream is reading: a stream that keeps
 * up reads them from memory instead of the store. Only what a commit made durable is added, so
 * memory holds exactly the rows the store holds, and nothing is served that a crash could lose.
 *
 * It holds only a handler's last rows, in one unbroken run of sequences (a gap, as when another
 * process wrote to the handler meanwhile, starts it afresh), between `capacity` and twice that many
 * per watched handler. Whatever it does not hold is read from the store: a reader that falls behind
 * or starts from the beginning reads the store until it catches up.
 */
export class RecentEvents {
  readonly #capacity: number;
  readonly #rows = new Map<string, EventRow[]>();
  readonly #watchers = new Map<string, number>();

  constructor(capacity: number) {
    this.#capacity = capacity;
  }

  /** Keeps the handler's new rows while at least one stream reads it. Returns the unwatch function. */
  watch(handlerId: string): () => void {
    this.#watchers.set(handlerId, (this.#watchers.get(handlerId) ?? 0) + 1);
    let watching = true;
    return () => {
      if (!watching) return;
      watching = false;
      const left = (this.#watchers.get(handlerId) ?? 1) - 1;
      if (left > 0) {
        this.#watchers.set(handlerId, left);
      } else {
        this.#watchers.delete(handlerId);
        this.#rows.delete(handlerId);
      }
    };
  }

  /** Rows of a handler that a commit just made durable, in sequence order. */
  add(handlerId: string, rows: readonly EventRow[]): void {
    if (rows.length === 0 || !this.#watchers.has(handlerId)) return;
    let list = this.#rows.get(handlerId);
    const last = list?.[list.length - 1];
    if (!list || last === undefined || last.sequence + 1 !== (rows[0] as EventRow).sequence) {
      list = [];
      this.#rows.set(handlerId, list);
    }
    for (const row of rows) list.push(row);
    if (list.length > 2 * this.#capacity) list.splice(0, list.length - this.#capacity);
  }

  /**
   * Up to `limit` rows after `after`, when memory holds the row right after it; null when it does
   * not (then the store must be read: that row is older than memory, or not committed by this process).
   */
  read(handlerId: string, after: number, limit: number): EventRow[] | null {
    const list = this.#rows.get(handlerId);
    const first = list?.[0];
    if (!list || first === undefined) return null;
    const index = after + 1 - first.sequence;
    if (index < 0 || index >= list.length) return null;
    return list.slice(index, index + limit);
  }

  /** The handler was deleted: nothing of it may be served from memory any more. */
  forget(handlerId: string): void {
    this.#rows.delete(handlerId);
  }

  /** Handlers with rows held (for tests of resource release). */
  get size(): number {
    return this.#rows.size;
  }
}
