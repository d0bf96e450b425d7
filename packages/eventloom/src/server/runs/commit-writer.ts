import { type Clock, systemClock, WorkflowError } from "../../core/index.js";
import { isKeyConflict } from "../../stores/idempotency.js";
import { LeaseLostError } from "../../stores/leases.js";
import type { EventRow, KeyAnswer, Store } from "../../stores/store.js";
import { background } from "../clock-timers.js";
import { fence, type Ownership } from "../cluster/ownership.js";
import type { KeyWrite } from "../idempotency/key-write.js";
import type { ServerLogger } from "../logger.js";
import type { ServerMetrics } from "../metrics/index.js";
import { CommitHealth } from "./commit-health.js";
import { FlushWaiters } from "./flush-waiters.js";
import {
  type CommitSource,
  cutBatch,
  DROPPED,
  dropStored,
  handlerNamedBy,
  leaseLost,
  type Pending,
  requeue,
} from "./pending-changes.js";

export type { CommitSource } from "./pending-changes.js";

const NONE: ReadonlySet<string> = new Set();

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
  /** Fences each batch (an unheld handler is never written), hears of lost handlers and durable batches. */
  ownership: Pick<Ownership, "shared" | "fences" | "holds" | "lost" | "committed" | "drop" | "landed">;
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
  /** Outcomes of sync runs for their idempotency keys: written with the next batch, not awaited. */
  #keyAnswers: KeyAnswer[] = [];
  #changeGeneration = 0;
  #durableGeneration = 0;
  readonly #waiters = new FlushWaiters();
  #inFlight: Promise<void> | null = null;
  #inFlightIds: ReadonlySet<string> = NONE;
  #scheduled = false;
  #retryTimer: unknown = null;
  readonly #unwritableListeners: ((handlerId: string, error: WorkflowError) => void)[] = [];
  readonly health = new CommitHealth(); // failing commits: GET /ready, runs hold their next steps

  constructor(store: Store, options: CommitWriterOptions) {
    this.#store = store;
    this.#options = options;
  }

  /** Notes a change of `source` with the events it published; the batch is cut at the end of the tick. */
  changed(source: CommitSource, events: readonly EventRow[]): void {
    let entry = this.#pending.get(source.handlerId);
    if (!entry) {
      entry = { source, events: [], keys: [] };
      this.#pending.set(source.handlerId, entry);
    } else {
      entry.source = source;
    }
    for (const e of events) entry.events.push(e);
    this.#changeGeneration++;
    this.#schedule();
  }

  /**
   * An idempotency key answered by the source's latest change: written in the batch that holds the
   * source's state as it is now (or a later one), settled when that batch is durable or dropped.
   */
  attachKey(source: CommitSource, key: KeyWrite): void {
    this.changed(source, []);
    this.#pending.get(source.handlerId)?.keys.push(key);
  }

  /** The start event of the run the source began: kept in the batch that holds its first record. */
  keepStart(source: CommitSource, json: string): void {
    this.changed(source, []);
    const entry = this.#pending.get(source.handlerId);
    if (entry) entry.start = json;
  }

  /**
   * The outcome of a sync `run` for its idempotency key (stored without an answer at the run's
   * start): written with the next batch. Nobody waits for it: until it is durable, a retry derives
   * the same answer from the handler's record.
   */
  answerKey(answer: KeyAnswer): void {
    this.#keyAnswers.push(answer);
    this.#changeGeneration++;
    this.#schedule();
  }

  #hasWork(): boolean {
    return this.#pending.size > 0 || this.#inboxDone.size > 0 || this.#keyAnswers.length > 0;
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

  /** True while the writer holds changes of the handler, waiting or in flight: it is not done yet. */
  holds(handlerId: string): boolean {
    return this.#pending.has(handlerId) || this.#inFlightIds.has(handlerId);
  }

  /**
   * Hears of a handler whose changes the store refused for a reason of its own (its sequences are
   * taken): they were dropped, and the other handlers of the batch were written without them.
   */
  onUnwritable(listener: (handlerId: string, error: WorkflowError) => void): void {
    this.#unwritableListeners.push(listener);
  }

  /**
   * Drops what is pending for a handler (it is being deleted, or it is owned elsewhere now): its
   * keys and the waiters on its changes fail with `why`, never told that the dropped changes are durable.
   */
  forget(handlerId: string, why: unknown = DROPPED): void {
    for (const key of this.#pending.get(handlerId)?.keys ?? []) key.dropped(why);
    this.#pending.delete(handlerId);
    this.#inboxDone.delete(handlerId);
    this.#waiters.rejectHandler(handlerId, why);
  }

  /**
   * On a shared store: drops the changes of handlers this process no longer holds (their lease was
   * lost or given up after their changes were noted; a failed batch may have put them back). Written
   * without a fence they would overwrite what their new owner wrote.
   */
  #dropUnheld(): void {
    const { ownership, logger } = this.#options;
    if (!ownership.shared) return;
    const unheld = [...new Set([...this.#pending.keys(), ...this.#inboxDone.keys()])].filter(
      (id) => !ownership.holds(id),
    );
    if (unheld.length === 0) return;
    const why = new LeaseLostError(unheld);
    logger.warn("changes of handlers this process no longer holds are dropped", {
      handlers: unheld.length,
      handlerIds: unheld.slice(0, 10),
    });
    for (const id of unheld) this.forget(id, why);
    ownership.lost(unheld, false);
  }

  /** Removes from the pending batch what of these handlers the store already holds. */
  async #dropStored(handlerIds: readonly string[]): Promise<void> {
    for (const handlerId of handlerIds)
      await dropStored(this.#store, this.#pending.get(handlerId), handlerId);
  }

  /** The error of the last commit when it failed and none succeeded since (read by GET /ready); else null. */
  get failure(): unknown {
    return this.health.failure;
  }

  /**
   * Resolves when every change noted so far is durable; rejects when the commit holding it failed.
   * With `handlerId`, also rejects when that handler's changes are dropped as unwritable.
   */
  flush(handlerId?: string): Promise<void> {
    const generation = this.#changeGeneration;
    if (this.#durableGeneration >= generation) return Promise.resolve();
    const waiting = this.#waiters.wait(generation, handlerId ?? null);
    this.#schedule();
    return waiting;
  }

  /**
   * As `flush(handlerId)` with callbacks, each called in a microtask, where an `await` of `flush`
   * would have gone on (never inside the writer's own work).
   */
  whenDurable(handlerId: string, durable: () => void, failed: (error: unknown) => void): void {
    const generation = this.#changeGeneration;
    if (this.#durableGeneration >= generation) {
      queueMicrotask(durable);
      return;
    }
    const fail = (error: unknown) => queueMicrotask(() => failed(error));
    this.#waiters.call(generation, handlerId, () => queueMicrotask(durable), fail);
    this.#schedule();
  }

  /** Waits until nothing is pending or in flight (a failing store ends the wait with its error). */
  async drain(): Promise<void> {
    while (this.#hasWork() || this.#inFlight) {
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
    this.#dropUnheld();
    if (!this.#hasWork()) {
      // Nothing left to write (what was noted got forgotten): everything noted so far is settled.
      this.#durableGeneration = this.#changeGeneration;
      this.#waiters.settle(this.#durableGeneration);
      return;
    }
    const taken = this.#pending;
    this.#pending = new Map();
    const inboxDone = this.#inboxDone;
    this.#inboxDone = new Map();
    const answers = this.#keyAnswers;
    this.#keyAnswers = [];
    const generation = this.#changeGeneration;
    const { batch, keys } = cutBatch(taken, inboxDone, answers, (handlerId, entry, error) => {
      this.#options.logger.error("a run's state could not be serialized; its changes are dropped", {
        handlerId,
        error,
      });
      for (const key of entry.keys) key.dropped(error);
      this.#waiters.rejectHandler(handlerId, error);
    });
    const ids = [...new Set([...taken.keys(), ...inboxDone.keys()])];
    const notified = batch.handlers.map((h) => h.handlerId); // an inbox-only change sends no notice
    fence(batch, this.#options.ownership, ids, notified);
    this.#inFlightIds = new Set(ids);
    const metrics = this.#options.metrics;
    const began = metrics ? metrics.now() : 0;
    this.#inFlight = this.#store.commit(batch).then(
      () => {
        if (metrics) metrics.commitTook(metrics.now() - began);
        this.#durableGeneration = Math.max(this.#durableGeneration, generation);
        // Leases claimed by the batch exist now; a fenced commit of an ended record gave its lease
        // back (or never took it): nothing left to release.
        if (batch.fence) this.#options.ownership.landed(batch.fence);
        for (const h of batch.fence ? batch.handlers : [])
          if (h.status !== "running") this.#options.ownership.drop(h.handlerId);
        this.health.set(null);
        this.#inFlight = null;
        this.#inFlightIds = NONE;
        // What accumulated while this commit was in flight goes to the store now, before the
        // waiters' answers are written: the store works on the next batch meanwhile.
        if (this.#hasWork()) this.#write();
        this.#waiters.settle(this.#durableGeneration);
        for (const key of keys) key.stored();
        this.#options.onCommitted(ids, batch.events);
        this.#options.ownership.committed(ids);
      },
      (error: unknown) => {
        this.#inFlight = null;
        this.#inFlightIds = NONE;
        const culprit = handlerNamedBy(error, taken, inboxDone);
        if (culprit !== null) {
          this.#keyAnswers = [...answers, ...this.#keyAnswers];
          this.#isolate(culprit, error, taken, inboxDone);
          return;
        }
        const lost = leaseLost(error);
        if (lost) {
          // Taken over by another process: what this one did with them since is void. The rest of
          // the batch is written again at once; only the lost handlers' waiters fail.
          for (const id of lost) {
            for (const key of taken.get(id)?.keys ?? []) key.dropped(error);
            taken.delete(id);
            inboxDone.delete(id);
            this.forget(id, error);
          }
          this.#options.ownership.lost(lost, true);
          this.#keyAnswers = [...answers, ...this.#keyAnswers];
          for (const [handlerId, list] of inboxDone) {
            this.#inboxDone.set(handlerId, [...list, ...(this.#inboxDone.get(handlerId) ?? [])]);
          }
          requeue(this.#pending, taken);
          this.#schedule();
          return;
        } else {
          this.health.set(error);
          this.#options.logger.error("commit failed", {
            error,
            handlers: ids.length,
            handlerIds: ids.slice(0, 10),
          });
        }
        this.#keyAnswers = [...answers, ...this.#keyAnswers];
        for (const [handlerId, list] of inboxDone) {
          this.#inboxDone.set(handlerId, [...list, ...(this.#inboxDone.get(handlerId) ?? [])]);
        }
        // Nothing of the batch was written: put its events back in front of what came since.
        requeue(this.#pending, taken);
        this.#waiters.rejectUpTo(generation, error);
        const retried = [...taken.keys()];
        this.#retryTimer = background(
          this.#options.clock ?? systemClock,
          () => {
            // A commit may have landed although it reported an error (connection lost after COMMIT):
            // drop the events the store already has before writing the batch again.
            void this.#dropStored(retried).finally(() => {
              this.#retryTimer = null;
              this.#schedule();
            });
          },
          this.#options.retryDelayMs ?? 1000,
        );
      },
    );
  }

  /**
   * The store refused the batch because of one handler (its sequences are taken): the store holds
   * something else for it, so retrying the same write would fail forever and, sharing the batch, fail
   * every other handler too. That handler's changes (none of them acknowledged: acknowledgements wait
   * for durability) are dropped and its waiters fail; the rest of the batch is written at once.
   */
  #isolate(
    handlerId: string,
    error: unknown,
    taken: Map<string, Pending>,
    inboxDone: Map<string, string[]>,
  ): void {
    for (const key of taken.get(handlerId)?.keys ?? []) key.dropped(error);
    taken.delete(handlerId);
    inboxDone.delete(handlerId);
    this.forget(handlerId, error);
    const coded = (error as { code?: unknown }).code === "SEQUENCE_CONFLICT";
    const failure = new WorkflowError(
      coded ? "SEQUENCE_CONFLICT" : "INTERNAL_ERROR",
      `The changes of handler "${handlerId}" could not be written (they conflict with what is stored); ` +
        "they were dropped and the handler goes on from its last durable state",
      { cause: error },
    );
    if (isKeyConflict(error)) {
      // A request's copy executed by another process stored its key first: this copy is void.
      this.#options.logger.warn(
        "a request's copy lost the race for its idempotency key; its changes are dropped",
        {
          handlerId,
        },
      );
    } else {
      this.#options.logger.error(
        "commit refused for one handler: its changes are dropped, the others are written",
        { handlerId, error, handlers: taken.size + 1 },
      );
    }
    for (const [id, list] of inboxDone) {
      this.#inboxDone.set(id, [...list, ...(this.#inboxDone.get(id) ?? [])]);
    }
    requeue(this.#pending, taken);
    this.#waiters.rejectHandler(handlerId, failure);
    for (const listener of this.#unwritableListeners) listener(handlerId, failure);
    this.#schedule();
  }
}
