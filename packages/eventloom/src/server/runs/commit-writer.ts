import { type Clock, systemClock } from "../../core/index.js";
import type { FencedCommitBatch } from "../../stores/leases.js";
import type { EventRow, HandlerRecord, Store } from "../../stores/store.js";
import { background } from "../clock-timers.js";
import type { Ownership } from "../cluster/ownership.js";
import type { ServerLogger } from "../logger.js";
import type { ServerMetrics } from "../metrics/index.js";

/** A live run as the writer sees it: something that can describe its current state and record. */
export interface CommitSource {
  readonly handlerId: string;
  /** Called synchronously when the batch is cut, so that state and events are consistent. */
  snapshot(): { stateJson: string; record: HandlerRecord };
}

const NONE: ReadonlySet<string> = new Set();

interface Pending {
  source: CommitSource;
  events: EventRow[];
}

interface Waiter {
  generation: number;
  resolve: () => void;
  reject: (error: unknown) => void;
}

export interface CommitWriterOptions {
  /** Called with the handler ids and the events of every durable commit. */
  onCommitted(
    handlerIds: readonly string[],
    events: readonly { handlerId: string; events: EventRow[] }[],
  ): void;
  logger: ServerLogger;
  /** Retries wait on it. Default: the system clock. */
  clock?: Clock;
  /** Delay before a failed batch is tried again. Default 1000 ms. */
  retryDelayMs?: number;
  /** Fences each batch, hears of handlers a fenced commit found taken over (their changes are dropped) and of durable batches. */
  ownership: Pick<Ownership, "fences" | "lost" | "committed">;
  /** Told how long each durable commit took. */
  metrics?: Pick<ServerMetrics, "now" | "commitTook">;
}

/**
 * Group commit: the changes of every live run made during one tick are written in ONE
 * `store.commit`, with at most one commit in flight while the next batch accumulates. That next batch
 * is cut the moment the commit in flight is done, so the store is never idle while changes wait.
 * `flush()` resolves once everything changed before the call is durable.
 */
export class CommitWriter {
  readonly #store: Store;
  readonly #options: CommitWriterOptions;
  #pending = new Map<string, Pending>();
  #inboxDone = new Map<string, string[]>();
  #changeGeneration = 0;
  #durableGeneration = 0;
  #waiters: Waiter[] = [];
  #inFlight: Promise<void> | null = null;
  #inFlightIds: ReadonlySet<string> = NONE;
  #scheduled = false;
  #retryTimer: unknown = null;

  constructor(store: Store, options: CommitWriterOptions) {
    this.#store = store;
    this.#options = options;
  }

  /** Notes a change of `source` with the events it published; the batch is cut at the end of the tick. */
  changed(source: CommitSource, events: readonly EventRow[]): void {
    let entry = this.#pending.get(source.handlerId);
    if (!entry) {
      entry = { source, events: [] };
      this.#pending.set(source.handlerId, entry);
    } else {
      entry.source = source;
    }
    for (const e of events) entry.events.push(e);
    this.#changeGeneration++;
    this.#schedule();
  }

  /** Inbox items a run has taken in: deleted in the commit that holds the change they made. */
  inboxTaken(handlerId: string, itemIds: readonly string[]): void {
    if (itemIds.length === 0) return;
    const list = this.#inboxDone.get(handlerId) ?? [];
    list.push(...itemIds);
    this.#inboxDone.set(handlerId, list);
    this.#changeGeneration++;
    this.#schedule();
  }

  /**
   * The ids among these whose commit is not in flight. The store tells its subscribers of a commit
   * before this writer hears it is done; the ids in flight are announced by `onCommitted` instead.
   */
  notInFlight(handlerIds: readonly string[]): readonly string[] {
    if (this.#inFlightIds.size === 0) return handlerIds;
    return handlerIds.filter((id) => !this.#inFlightIds.has(id));
  }

  /** True while a change of the handler is not yet durable. */
  isPending(handlerId: string): boolean {
    return this.#pending.has(handlerId);
  }

  /** Drops what is pending for a handler (it is being deleted). */
  forget(handlerId: string): void {
    this.#pending.delete(handlerId);
    this.#inboxDone.delete(handlerId);
  }

  /** Removes from the pending batch the events of these handlers that the store already holds. */
  async #dropStored(handlerIds: readonly string[]): Promise<void> {
    for (const handlerId of handlerIds) {
      try {
        const last = await this.#store.lastSequence(handlerId);
        const entry = this.#pending.get(handlerId);
        if (entry) entry.events = entry.events.filter((e) => e.sequence > last);
      } catch {
        // The store is still down: the retry will fail and come back here.
      }
    }
  }

  /** Resolves when every change noted so far is durable; rejects when the commit holding it failed. */
  flush(): Promise<void> {
    const generation = this.#changeGeneration;
    if (this.#durableGeneration >= generation) return Promise.resolve();
    return new Promise((resolve, reject) => {
      this.#waiters.push({ generation, resolve, reject });
      this.#schedule();
    });
  }

  /** Waits until nothing is pending or in flight (a failing store ends the wait with its error). */
  async drain(): Promise<void> {
    while (this.#pending.size > 0 || this.#inboxDone.size > 0 || this.#inFlight) {
      if (this.#retryTimer !== null) {
        (this.#options.clock ?? systemClock).clearTimeout(this.#retryTimer);
        this.#retryTimer = null;
      }
      await this.flush();
      if (this.#inFlight) await this.#inFlight;
    }
  }

  #schedule(): void {
    if (this.#scheduled || this.#inFlight || this.#retryTimer !== null) return;
    this.#scheduled = true;
    // setImmediate: the changes of this whole turn of the event loop (I/O callbacks included) join one batch.
    setImmediate(() => {
      this.#scheduled = false;
      this.#write();
    });
  }

  #write(): void {
    if (this.#inFlight) return;
    if (this.#pending.size === 0 && this.#inboxDone.size === 0) {
      // Nothing left to write (what was noted got forgotten): everything noted so far is settled.
      this.#durableGeneration = this.#changeGeneration;
      this.#settle();
      return;
    }
    const taken = this.#pending;
    this.#pending = new Map();
    const inboxDone = this.#inboxDone;
    this.#inboxDone = new Map();
    const generation = this.#changeGeneration;
    const batch: Required<Pick<FencedCommitBatch, "handlers" | "events" | "states" | "inboxDone">> &
      FencedCommitBatch = {
      handlers: [],
      events: [],
      states: [],
      inboxDone: [...inboxDone].map(([handlerId, ids]) => ({ handlerId, ids })),
    };
    for (const [handlerId, entry] of taken) {
      try {
        const { stateJson, record } = entry.source.snapshot();
        batch.handlers.push(record);
        batch.states.push({ handlerId, json: stateJson });
        if (entry.events.length > 0) batch.events.push({ handlerId, events: entry.events });
      } catch (error) {
        this.#options.logger.error("a run's state could not be serialized; its changes are dropped", {
          handlerId,
          error,
        });
      }
    }
    const ids = [...new Set([...taken.keys(), ...inboxDone.keys()])];
    const fence = this.#options.ownership.fences(ids);
    if (fence.length > 0) batch.fence = fence;
    this.#inFlightIds = new Set(ids);
    const metrics = this.#options.metrics;
    const began = metrics ? metrics.now() : 0;
    this.#inFlight = this.#store.commit(batch).then(
      () => {
        if (metrics) metrics.commitTook(metrics.now() - began);
        this.#durableGeneration = Math.max(this.#durableGeneration, generation);
        this.#inFlight = null;
        this.#inFlightIds = NONE;
        // What accumulated while this commit was in flight goes to the store now, before the
        // waiters' answers are written: the store works on the next batch meanwhile.
        if (this.#pending.size > 0 || this.#inboxDone.size > 0) this.#write();
        this.#settle();
        this.#options.onCommitted(ids, batch.events);
        this.#options.ownership.committed(ids);
      },
      (error: unknown) => {
        this.#inFlight = null;
        this.#inFlightIds = NONE;
        const lost = leaseLost(error);
        if (lost) {
          // Taken over by another process: what this one did with them since is void.
          for (const id of lost) {
            taken.delete(id);
            inboxDone.delete(id);
            this.forget(id);
          }
          this.#options.ownership.lost(lost);
        } else {
          this.#options.logger.error("commit failed", { error, handlers: ids.length });
        }
        for (const [handlerId, list] of inboxDone) {
          this.#inboxDone.set(handlerId, [...list, ...(this.#inboxDone.get(handlerId) ?? [])]);
        }
        // Nothing of the batch was written: put its events back in front of what came since.
        for (const [handlerId, entry] of taken) {
          const later = this.#pending.get(handlerId);
          if (later) later.events = [...entry.events, ...later.events];
          else this.#pending.set(handlerId, entry);
        }
        const failed = this.#waiters.filter((w) => w.generation <= generation);
        this.#waiters = this.#waiters.filter((w) => w.generation > generation);
        for (const w of failed) w.reject(error);
        const retried = [...taken.keys()];
        this.#retryTimer = background(
          this.#options.clock ?? systemClock,
          () => {
            // A commit may have landed although it reported an error (connection lost after COMMIT):
            // drop the events the store already has before writing the batch again.
            void this.#dropStored(lost ? [] : retried).finally(() => {
              this.#retryTimer = null;
              this.#schedule();
            });
          },
          lost ? 0 : (this.#options.retryDelayMs ?? 1000),
        );
      },
    );
  }

  // Waiters are pushed in generation order (generations only grow): settle from the front.
  #settle(): void {
    let count = 0;
    while (
      count < this.#waiters.length &&
      (this.#waiters[count] as Waiter).generation <= this.#durableGeneration
    ) {
      count++;
    }
    if (count === 0) return;
    const done = this.#waiters.splice(0, count);
    for (const w of done) w.resolve();
  }
}

function leaseLost(error: unknown): readonly string[] | null {
  const e = error as { code?: unknown; handlerIds?: unknown } | null;
  return e?.code === "LEASE_LOST" && Array.isArray(e.handlerIds) ? (e.handlerIds as string[]) : null;
}
