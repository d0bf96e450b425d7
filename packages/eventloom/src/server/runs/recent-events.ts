import type { EventRow } from "../../stores/store.js";
import { ReleasingMap } from "../releasing-map.js";

/** How much {@link RecentEvents} holds. Sizes are the rows' JSON text length (bytes for ASCII). */
export interface RecentEventsLimits {
  /** Rows kept per watched handler: between this and twice this many. */
  rowsPerHandler: number;
  /** Bytes kept per watched handler: at most this (trimmed to half of it when it grows past it). */
  bytesPerHandler: number;
  /** Bytes kept in all: past it, the handlers that got rows least recently are dropped first. */
  totalBytes: number;
}

/** Per handler 8 MiB, 64 MiB in all: a few pages of a stream's reads of the largest events. */
export const DEFAULT_RECENT_BYTES = { bytesPerHandler: 8 * 1024 * 1024, totalBytes: 64 * 1024 * 1024 };

interface Rows {
  rows: EventRow[];
  bytes: number;
}

/**
 * The events this process committed last, for each handler a stream is reading: a stream that keeps
 * up reads them from memory instead of the store. Only what a commit made durable is added, so
 * memory holds exactly the rows the store holds, and nothing is served that a crash could lose.
 *
 * It holds only a handler's last rows, in one unbroken run of sequences (a gap, as when another
 * process wrote to the handler meanwhile, starts it afresh), bounded in rows and in bytes per
 * handler and in bytes in all (see {@link RecentEventsLimits}). Whatever it does not hold is read
 * from the store: a reader that falls behind or starts from the beginning reads the store until it
 * catches up.
 */
export class RecentEvents {
  readonly #limits: RecentEventsLimits;
  // In the order handlers last got rows: the first is the one to drop when memory is over budget.
  readonly #rows = new ReleasingMap<string, Rows>();
  readonly #watchers = new Map<string, number>();
  #bytes = 0;

  /** `limits`: all of them, or the rows per handler with {@link DEFAULT_RECENT_BYTES}. */
  constructor(limits: RecentEventsLimits | number) {
    this.#limits = typeof limits === "number" ? { rowsPerHandler: limits, ...DEFAULT_RECENT_BYTES } : limits;
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
        this.forget(handlerId);
      }
    };
  }

  /** Rows of a handler that a commit just made durable, in sequence order. */
  add(handlerId: string, rows: readonly EventRow[]): void {
    if (rows.length === 0 || !this.#watchers.has(handlerId)) return;
    let held = this.#rows.get(handlerId);
    const last = held?.rows[held.rows.length - 1];
    if (held && (last === undefined || last.sequence + 1 !== (rows[0] as EventRow).sequence)) {
      this.forget(handlerId);
      held = undefined;
    }
    if (held) this.#rows.delete(handlerId); // re-inserted below: now the most recent
    held ??= { rows: [], bytes: 0 };
    this.#rows.set(handlerId, held);
    for (const row of rows) {
      held.rows.push(row);
      held.bytes += row.json.length;
      this.#bytes += row.json.length;
    }
    const { rowsPerHandler, bytesPerHandler, totalBytes } = this.#limits;
    if (held.rows.length > 2 * rowsPerHandler) this.#trim(held, held.rows.length - rowsPerHandler);
    if (held.bytes > bytesPerHandler) this.#trimBytes(held, bytesPerHandler / 2);
    for (const [id, other] of this.#rows) {
      if (this.#bytes <= totalBytes) break;
      if (other === held) this.#trimBytes(held, totalBytes);
      else this.forget(id);
    }
  }

  /**
   * Up to `limit` rows after `after`, when memory holds the row right after it; null when it does
   * not (then the store must be read: that row is older than memory, or not committed by this process).
   */
  read(handlerId: string, after: number, limit: number): EventRow[] | null {
    const list = this.#rows.get(handlerId)?.rows;
    const first = list?.[0];
    if (!list || first === undefined) return null;
    const index = after + 1 - first.sequence;
    if (index < 0 || index >= list.length) return null;
    return list.slice(index, index + limit);
  }

  /** The handler was deleted (or nobody reads it any more): nothing of it is served from memory. */
  forget(handlerId: string): void {
    const held = this.#rows.get(handlerId);
    if (!held) return;
    this.#bytes -= held.bytes;
    this.#rows.delete(handlerId);
  }

  /** Handlers with rows held (for tests of resource release). */
  get size(): number {
    return this.#rows.size;
  }

  /** Bytes of JSON text held in all. */
  get bytes(): number {
    return this.#bytes;
  }

  #trim(held: Rows, count: number): void {
    let bytes = 0;
    for (let i = 0; i < count; i++) bytes += (held.rows[i] as EventRow).json.length;
    held.rows.splice(0, count);
    held.bytes -= bytes;
    this.#bytes -= bytes;
  }

  /** Drops the oldest rows until the handler holds at most `target` bytes. */
  #trimBytes(held: Rows, target: number): void {
    let count = 0;
    let bytes = held.bytes;
    while (count < held.rows.length && bytes > target) bytes -= (held.rows[count++] as EventRow).json.length;
    this.#trim(held, count);
  }
}
