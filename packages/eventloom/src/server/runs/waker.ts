import type { Clock } from "../../core/index.js";
import type { DueWake, Store } from "../../stores/store.js";
import { background } from "../clock-timers.js";
import type { ServerLogger } from "../logger.js";

export interface WakerOptions {
  store: Pick<Store, "dueWakes">;
  /** Several processes share the store (see {@link WakerOptions.shared}). */
  ownership: { readonly shared: boolean };
  clock: Clock;
  logger: ServerLogger;
  /** Wakes a released run (loads and resumes it); resolves when that is done or failed. */
  wake(handlerId: string): Promise<unknown>;
  /** Wake times loaded per store read (1000). */
  pageSize?: number;
  /**
   * Several processes share the store: a read looks `lookaheadMs` ahead and is repeated every half
   * of it, for the runs other processes released. Alone, this process notes every release itself:
   * a read looks as far as its page goes, and the next one comes only when that page runs out.
   * Default: `ownership.shared`.
   */
  shared?: boolean;
  /** How far ahead a read on a shared store looks, in ms (30 s). */
  lookaheadMs?: number;
  /**
   * A run is loaded up to this long before its wake time (2 s), so that loading it (store reads, a
   * lease) is done when its own timer, armed by the engine at the exact time, fires. When many runs
   * come due close together, their loads are spread over this window instead of queueing after it.
   */
  leadMs?: number;
  /** Wakes in progress at once (64): started together, so that a store can batch their reads. */
  concurrency?: number;
  /**
   * Runs loaded ahead of their time at once, at most (2000): what loading ahead may add to memory.
   * A run whose time has come is loaded whatever this says.
   */
  maxAhead?: number;
}

/**
 * Wakes runs released from memory when their earliest timer is due, with one timer for all of them.
 * The store keeps each idle run's wake time (`wake_at`, written with its record); the waker holds an
 * in-memory schedule of only the NEXT due ones, read a page at a time (`Store.dueWakes`) some
 * ahead, sorted by time, and one clock timer for the earliest. A released run costs nothing
 * here until it is among the next page; a run this process releases is added at once
 * ({@link Waker.note}); runs of other processes and those beyond a full page come with the next read.
 *
 * Runs come due at the rate they were started, which may be faster than one process loads them: the
 * waker loads them in time order up to `leadMs` ahead, `concurrency` at once, with at most `maxAhead`
 * of them in memory before their time. A run loaded early arms its own timer, which fires at its time
 * (never before: the engine arms it again if its clock is early).
 */
export class Waker {
  readonly #o: Required<WakerOptions>;
  /** The next wakes, earliest first. */
  #due: DueWake[] = [];
  /** Ids in #due or being woken: a read that finds them again does not add them twice. */
  readonly #known = new Set<string>();
  /** Every wake at or before this is in #due (or woken): what a read covered. */
  #covered = Number.NEGATIVE_INFINITY;
  #timer: unknown = null;
  #timerAt = Number.POSITIVE_INFINITY;
  #reading: Promise<void> | null = null;
  #nextRead = 0;
  /** The last read filled its page: more is due in the window than it gave. */
  #full = false;
  /** Wakes in progress. */
  readonly #waking = new Set<string>();
  /**
   * Runs woken before their time, earliest first, dropped once due. They stay known until then: the
   * store says they are due until their timer fires in memory, and a read finds them again.
   */
  #ahead: DueWake[] = [];
  /** Released here while a read was under way: added once it is done (it may not have seen them). */
  #noted: DueWake[] = [];
  #closed = false;

  constructor(options: WakerOptions) {
    this.#o = {
      pageSize: 1000,
      lookaheadMs: 30_000,
      leadMs: 2_000,
      concurrency: 64,
      maxAhead: 2_000,
      shared: options.ownership.shared,
      ...options,
    };
  }

  /** Wakes waiting in memory now (at most about two pages). */
  get size(): number {
    return this.#due.length;
  }

  /** How long before its wake time a run may be loaded (a run due this soon is not released). */
  get leadMs(): number {
    return this.#o.leadMs;
  }

  /** Starts reading the schedule. */
  start(): void {
    if (this.#closed) return;
    void this.#read();
  }

  /**
   * A run this process released wakes at `at` (epoch ms): added when within what was read, else a
   * read is set in time for it (during a read: taken up once it is done).
   */
  note(handlerId: string, at: number | null): void {
    if (this.#closed || at === null || this.#known.has(handlerId)) return;
    if (this.#reading !== null) {
      this.#noted.push({ handlerId, wakeAt: at });
      return;
    }
    if (at > this.#covered) {
      // Beyond what was read: a read in time to load it (the next one on a shared store may be late).
      this.#nextRead = Math.min(this.#nextRead, at - 2 * this.#o.leadMs);
      this.#arm();
      return;
    }
    this.#known.add(handlerId);
    insertSorted(this.#due, { handlerId, wakeAt: at });
    this.#arm();
  }

  /** Forgets a handler's wake (it was resumed or deleted by other means). */
  cancel(handlerId: string): void {
    if (!this.#known.delete(handlerId)) return;
    const i = this.#due.findIndex((w) => w.handlerId === handlerId);
    if (i >= 0) this.#due.splice(i, 1);
  }

  close(): void {
    this.#closed = true;
    if (this.#timer !== null) this.#o.clock.clearTimeout(this.#timer);
    this.#timer = null;
    this.#due = [];
    this.#ahead = [];
    this.#noted = [];
    this.#known.clear();
  }

  /** Reads the next page of wake times into the schedule. */
  #read(): Promise<void> {
    this.#reading ??= this.#readPage().finally(() => {
      this.#reading = null;
      for (const { handlerId, wakeAt } of this.#noted.splice(0)) this.note(handlerId, wakeAt);
      this.#arm();
    });
    return this.#reading;
  }

  async #readPage(): Promise<void> {
    const { clock, pageSize, lookaheadMs } = this.#o;
    const before = this.#o.shared ? clock.now() + lookaheadMs : Number.MAX_SAFE_INTEGER;
    // Already known ones come again until they are woken: ask for enough to get a page of new ones.
    // Counted now: wakes that end during the read leave `#known` before it answers.
    const limit = pageSize + this.#known.size;
    let rows: DueWake[];
    try {
      rows = await this.#o.store.dueWakes(before, limit);
    } catch (error) {
      this.#o.logger.warn("could not read the runs to wake; trying again", { error });
      this.#nextRead = clock.now() + 1_000;
      return;
    }
    if (this.#closed) return;
    const full = rows.length === limit;
    this.#full = full;
    // A full page covers up to just before its last time (rows of that time may go on past it).
    const last = rows[rows.length - 1];
    this.#covered = full && last ? last.wakeAt - 1 : before;
    for (const row of rows) {
      if (row.wakeAt > this.#covered || this.#known.has(row.handlerId)) continue;
      this.#known.add(row.handlerId);
      insertSorted(this.#due, row);
    }
    this.#nextRead = full
      ? this.#covered
      : this.#o.shared
        ? clock.now() + lookaheadMs / 2
        : Number.POSITIVE_INFINITY;
  }

  /** One timer: for the next wake that may start, or the next read, whichever comes first. */
  #arm(): void {
    if (this.#closed) return;
    const at = Math.min(this.#nextStart(), this.#nextRead);
    if (at === Number.POSITIVE_INFINITY) return;
    if (this.#timer !== null && at >= this.#timerAt) return;
    if (this.#timer !== null) this.#o.clock.clearTimeout(this.#timer);
    this.#timerAt = at;
    this.#timer = background(this.#o.clock, () => this.#tick(), at - this.#o.clock.now());
  }

  /** When the next wake may start (infinity: none to start, or it starts when a wake in progress ends). */
  #nextStart(): number {
    const next = this.#due[0];
    if (!next || this.#waking.size >= this.#o.concurrency) return Number.POSITIVE_INFINITY;
    if (this.#ahead.length < this.#o.maxAhead) return next.wakeAt - this.#o.leadMs;
    // As many ahead as allowed: the next starts when it is due or when one of those is.
    return Math.min(next.wakeAt, this.#ahead[0]?.wakeAt ?? Number.POSITIVE_INFINITY);
  }

  #tick(): void {
    this.#timer = null;
    this.#timerAt = Number.POSITIVE_INFINITY;
    this.#pump();
  }

  /** Starts the wakes that may start now, earliest first; reads on; arms the timer for what is next. */
  #pump(): void {
    if (this.#closed) return;
    const { clock, leadMs, concurrency, maxAhead } = this.#o;
    const now = clock.now();
    let due = 0;
    while (due < this.#ahead.length && (this.#ahead[due] as DueWake).wakeAt <= now) due++;
    for (const { handlerId } of this.#ahead.splice(0, due))
      if (!this.#waking.has(handlerId)) this.#known.delete(handlerId);
    let n = 0;
    while (n < this.#due.length && this.#waking.size + n < concurrency) {
      const wake = this.#due[n] as DueWake;
      if (wake.wakeAt - leadMs > now) break;
      if (wake.wakeAt > now) {
        if (this.#ahead.length >= maxAhead) break;
        insertSorted(this.#ahead, wake);
      }
      n++;
    }
    for (const { handlerId, wakeAt } of this.#due.splice(0, n)) {
      this.#waking.add(handlerId);
      void this.#o
        .wake(handlerId)
        .catch((error: unknown) =>
          this.#o.logger.error("could not wake a released handler", { handlerId, error }),
        )
        .finally(() => {
          // Known until its wake is done and its time has come: its row in the store says it is due
          // until its timer fired in memory.
          this.#waking.delete(handlerId);
          if (wakeAt <= this.#o.clock.now()) this.#known.delete(handlerId);
          this.#pump();
        });
    }
    // A full page is read on before it runs out, so that its successors are in memory when due.
    if (now >= this.#nextRead || (this.#full && this.#due.length < this.#o.pageSize / 4)) void this.#read();
    this.#arm();
  }
}

/** Inserts `wake` into `list`, kept sorted by time (binary search; equal times keep their order). */
function insertSorted(list: DueWake[], wake: DueWake): void {
  const at = wake.wakeAt;
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((list[mid] as DueWake).wakeAt <= at) lo = mid + 1;
    else hi = mid;
  }
  list.splice(lo, 0, wake);
}
