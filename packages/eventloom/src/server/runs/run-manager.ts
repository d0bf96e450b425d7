import { type Clock, randomId, timeOrderedId } from "../../core/clock.js";
import { WorkflowError, type WorkflowEvent } from "../../core/index.js";
import { earliestTimer } from "../../core/run-timers.js";
import type { EventRow, Store } from "../../stores/store.js";
import { background } from "../clock-timers.js";
import type { OwnedRuns, Ownership } from "../cluster/ownership.js";
import type { KeyWrite } from "../idempotency/key-write.js";
import type { ServerLogger } from "../logger.js";
import type { ServerMetrics } from "../metrics/index.js";
import type { RegisteredWorkflow, WorkflowRegistry } from "../registry.js";
import type { CommitWriter } from "./commit-writer.js";
import { continuation, running, type StartedRun, type StartRequest } from "./continuation.js";

export type { StartedRun, StartRequest } from "./continuation.js";

import { cancelStored } from "./cancel-stored.js";
import { EndWaiters } from "./end-waiters.js";
import { cancelRequest, drainInbox } from "./inbox.js";
import { LiveRun } from "./live-run.js";
import { guardResume } from "./resume-guard.js";
import { Wakes } from "./wakes.js";

export interface RunManagerOptions {
  store: Store;
  writer: CommitWriter;
  registry: WorkflowRegistry;
  clock: Clock;
  /** A run idle this long is suspended and dropped from memory; Infinity never. */
  idleReleaseMs: number;
  logger: ServerLogger;
  /** Called when a handler is deleted, so that its readers stop. */
  onDeleted(handlerId: string): void;
  /** Which handlers this process may run: all of them (solo), or those it leases on a shared store. */
  ownership: Ownership;
  /** Resumes without a finished step after which a run is failed with RESUME_CRASH_LOOP. */
  maxResumeAttempts: number;
  /** Counts runs started here and observes every run in memory; none: not measured. */
  metrics?: ServerMetrics;
}

/** A handler that runs in another server process sharing the store. */
const REMOTE = Symbol("remote");

/**
 * Every run this process holds in memory: starts, continues, resumes and releases them, and routes
 * outside events and cancellations to them. Persistence goes through the {@link CommitWriter}; which
 * handlers this process may run is its {@link Ownership}'s to say.
 */
export class RunManager implements OwnedRuns {
  readonly #o: RunManagerOptions;
  readonly #live = new Map<string, LiveRun>();
  readonly #claims = new Set<string>();
  readonly #loading = new Map<string, Promise<LiveRun | typeof REMOTE | null>>();
  readonly #wakes: Wakes;
  readonly #endWaiters = new EndWaiters();
  /** Running handlers the code now loaded cannot resume, with the reason. */
  readonly #blocked = new Map<string, string>();
  #closing = false;

  constructor(options: RunManagerOptions) {
    this.#o = options;
    this.#wakes = new Wakes(options.clock);
    options.writer.onUnwritable((id, error) => this.#unwritable(id, error));
  }

  /** Runs held in memory. */
  get liveCount(): number {
    return this.#live.size;
  }

  /** Released runs waiting for a timer. */
  get wakeCount(): number {
    return this.#wakes.size;
  }

  /** The run in memory, if any. */
  live(handlerId: string): LiveRun | undefined {
    return this.#live.get(handlerId);
  }

  /**
   * Starts a run: a new handler, or the continuation of an ended one (new run id, its state carried,
   * sequences going on after its last stored event). A handler that is still running → 409.
   */
  async start(entry: RegisteredWorkflow, request: StartRequest): Promise<StartedRun> {
    this.#checkOpen();
    const handlerId = request.handlerId || timeOrderedId(this.#o.clock.now());
    if (this.#busy(handlerId) || this.#claims.has(handlerId)) throw running(handlerId);
    this.#claims.add(handlerId);
    try {
      const { context, firstSequence } = await continuation(this.#o.store, entry, handlerId, request);
      this.#checkOpen();
      if (this.#busy(handlerId)) throw running(handlerId);
      const owned = this.#o.ownership.acquire(handlerId);
      if (owned !== true && !(await owned)) throw running(handlerId);
      const run = this.#begin(
        handlerId,
        entry,
        (journal) =>
          entry.workflow.run(request.start, {
            context,
            runId: randomId(),
            firstSequence,
            journal,
            keepHistory: false,
            additionalEvents: entry.additionalEvents,
            clock: this.#o.clock,
          }),
        request.key,
      );
      this.#o.metrics?.runStarted(entry.name);
      // Registered in the same turn: a run's end settles only after a commit, in a later one.
      return { run, ended: request.awaitEnd ? this.#endWaiters.wait(handlerId) : null };
    } finally {
      this.#claims.delete(handlerId);
    }
  }

  /** The run of a handler, in memory or loaded from the store; null when it is not running here. */
  async acquire(handlerId: string): Promise<LiveRun | null> {
    const found = await this.#locate(handlerId);
    return found === REMOTE ? null : found;
  }

  #locate(handlerId: string): Promise<LiveRun | typeof REMOTE | null> {
    const live = this.#live.get(handlerId);
    if (live) return Promise.resolve(live);
    const loading = this.#loading.get(handlerId);
    if (loading) return loading;
    const promise = this.#load(handlerId).finally(() => this.#loading.delete(handlerId));
    this.#loading.set(handlerId, promise);
    return promise;
  }

  /** Delivers an outside event; resolves once it is durable (with `key`, when given). */
  async send(
    handlerId: string,
    event: WorkflowEvent,
    step: string | null,
    key?: () => KeyWrite,
  ): Promise<void> {
    // Out of memory but with changes the writer still holds: it ended here and its end is not
    // durable yet; the store's copy is stale and must not be loaded.
    if (!this.#live.has(handlerId) && this.#o.writer.holds(handlerId)) {
      throw new WorkflowError("HANDLER_ENDED", `Handler "${handlerId}" has already ended`);
    }
    const run = await this.#locate(handlerId);
    if (run === REMOTE) {
      await this.#toInbox(handlerId, event, step, key);
      return;
    }
    // An ended run may still be in memory until its final record is durable: it takes nothing more.
    if (!run?.handler || run.state.status !== "running") {
      const blocked = this.#blocked.get(handlerId);
      if (blocked) throw blockedError(handlerId, blocked);
      throw new WorkflowError("HANDLER_ENDED", `Handler "${handlerId}" has already ended`);
    }
    run.handler.sendEvent(event, step === null ? {} : { step });
    if (key) this.#o.writer.attachKey(run, key());
    await this.#o.writer.flush(handlerId);
  }

  /** Hands an event to the process that runs the handler, through the store's inbox. */
  async #toInbox(
    handlerId: string,
    event: WorkflowEvent,
    step: string | null,
    key: (() => KeyWrite) | undefined,
  ): Promise<void> {
    const { store, ownership, clock } = this.#o;
    const item = { id: randomId(), event, step, receivedAt: new Date(clock.now()).toISOString() };
    if (key) await key().through((record) => store.appendInbox(handlerId, item, record));
    else await store.appendInbox(handlerId, item);
    // The owner may have let go meanwhile (idle release): then this process takes the run in.
    if (!(await ownership.heldByAnyone(handlerId))) await this.acquire(handlerId);
  }

  /** Handlers this process runs (for lease renewal). */
  liveIds(): string[] {
    return [...this.#live.keys()];
  }

  isLive(handlerId: string): boolean {
    return this.#live.has(handlerId);
  }

  /** Another process sharing the store has changed these handlers: take in their inbox items. */
  changedElsewhere(handlerIds: readonly string[]): void {
    if (!this.#o.ownership.shared) return;
    for (const id of handlerIds) {
      const run = this.#live.get(id);
      if (run) void this.#drainInbox(run);
    }
  }

  /** These handlers were taken over by another process: stop running them here. */
  lost(handlerIds: readonly string[]): void {
    for (const id of handlerIds) {
      const run = this.#live.get(id);
      this.#o.ownership.drop(id);
      this.#o.writer.forget(id);
      if (!run) continue;
      this.#clearIdle(run);
      run.handler?.suspend();
      this.#live.delete(id);
      this.#o.logger.warn("a handler was taken over by another server process", { handlerId: id });
    }
  }

  /**
   * Cancels a running handler; with `purge`, deletes it (ended or not) and everything stored for it.
   * `key` is written with the cancellation, or with the deletion.
   */
  async cancel(handlerId: string, purge: boolean, key?: () => KeyWrite): Promise<"cancelled" | "deleted"> {
    const cancelKey = purge ? undefined : key;
    const { store, writer } = this.#o;
    const live = this.#live.get(handlerId);
    // A run that just started is live before its first record is durable.
    const record = live ? live.record() : await store.getHandler(handlerId);
    if (!record) throw new WorkflowError("HANDLER_NOT_FOUND", `Handler "${handlerId}" not found`);
    if (record.status === "running") {
      const run = await this.#locate(handlerId);
      if (run === REMOTE) {
        await this.#toInbox(handlerId, cancelRequest(), null, cancelKey);
      } else if (run?.handler && run.state.status === "running") {
        // Attached in the cancellation's own turn (cancel changes the state before it awaits
        // anything): the key joins the commit that holds it.
        const cancelling = run.handler.cancel();
        if (cancelKey) writer.attachKey(run, cancelKey());
        await cancelling;
      } else if (run === null && this.#blocked.has(handlerId)) {
        // Its code is gone: cancelled in the store, without running it.
        const { ownership, clock } = this.#o;
        await cancelStored(store, record, clock.now(), ownership.fences([handlerId]), cancelKey);
        this.#blocked.delete(handlerId);
        void ownership.release(handlerId);
      }
      await writer.flush(handlerId);
    } else if (!purge) {
      throw new WorkflowError("HANDLER_ENDED", `Handler "${handlerId}" has already ended (${record.status})`);
    }
    if (!purge) return "cancelled";
    const run = this.#live.get(handlerId);
    if (run) {
      run.handler?.suspend();
      this.#live.delete(handlerId);
    }
    this.#wakes.cancel(handlerId);
    writer.forget(handlerId);
    if (key) await key().through((record) => store.deleteHandler(handlerId, record));
    else await store.deleteHandler(handlerId);
    this.#o.onDeleted(handlerId);
    return "deleted";
  }

  /**
   * After a start: resumes every running handler of a registered workflow. Idle ones stay in the store
   * until an event or one of their timers wakes them.
   */
  async resumeAll(): Promise<void> {
    const { store, registry, logger } = this.#o;
    for (const record of await store.listRunning()) {
      if (this.#closing) return;
      const entry = registry.get(record.workflowName);
      if (!entry) {
        this.#blocked.set(record.handlerId, `its workflow "${record.workflowName}" is not registered`);
        logger.warn("running handler of an unregistered workflow left as is", {
          handlerId: record.handlerId,
          workflowName: record.workflowName,
        });
        continue;
      }
      if (this.#live.has(record.handlerId)) continue;
      const state = await store.loadState(record.handlerId);
      if (!state) continue;
      if (state.idle && Number.isFinite(this.#o.idleReleaseMs)) {
        this.#scheduleWake(record.handlerId, earliestTimer(state));
      } else {
        await this.acquire(record.handlerId);
      }
    }
  }

  /** Stops every run in memory without ending it; they stay `running` in the store, resumable. */
  suspendAll(): void {
    this.#closing = true;
    for (const run of this.#live.values()) {
      this.#clearIdle(run);
      run.handler?.suspend();
      // Stopped in good order: this resume did not take the process down, so it does not count.
      if (run.resumeAttempts > 0 && run.engine) {
        run.resumeAttempts = 0;
        this.#o.writer.changed(run, []);
      }
    }
    this.#live.clear();
    this.#wakes.clear();
    const closing = new WorkflowError("SERVER_CLOSING", "The server is shutting down");
    this.#endWaiters.rejectAll(closing);
  }

  // ---- internals -----------------------------------------------------------------------------------

  /**
   * A handler is busy while its run is in memory or being loaded, and also while the writer holds
   * changes of it: a run that ended in memory but whose writes are not durable is still that handler.
   */
  #busy(handlerId: string): boolean {
    return this.#live.has(handlerId) || this.#loading.has(handlerId) || this.#o.writer.holds(handlerId);
  }

  /**
   * The store refused a handler's changes (they conflict with what it holds) and the writer dropped
   * them: the run in memory is no longer the truth. It is dropped as after a crash (its waiters fail);
   * if the store has it running, it goes on from its last durable state when it is next acquired (an
   * event, a restart, a takeover), not at once: resuming a state the store contradicts could loop.
   */
  #unwritable(handlerId: string, error: WorkflowError): void {
    const run = this.#live.get(handlerId);
    if (run) {
      this.#clearIdle(run);
      run.handler?.suspend();
      this.#live.delete(handlerId);
    }
    this.#endWaiters.settle(handlerId, error);
    void this.#o.ownership
      .release(handlerId)
      .catch((e: unknown) =>
        this.#o.logger.warn("could not release a dropped handler", { handlerId, error: e }),
      );
  }

  #checkOpen(): void {
    if (this.#closing) throw new WorkflowError("SERVER_CLOSING", "The server is shutting down");
  }

  async #load(handlerId: string): Promise<LiveRun | typeof REMOTE | null> {
    const { store, registry, logger } = this.#o;
    const record = await store.getHandler(handlerId);
    if (record?.status !== "running") return null;
    const entry = registry.get(record.workflowName);
    if (!entry) {
      this.#blocked.set(handlerId, `its workflow "${record.workflowName}" is not registered`);
      return null;
    }
    const state = await store.loadState(handlerId);
    if (!state) return null;
    this.#checkOpen();
    const live = this.#live.get(handlerId);
    if (live) return live;
    const { ownership } = this.#o;
    const owned = ownership.acquire(handlerId);
    if (owned !== true && !(await owned)) return REMOTE;
    if (ownership.shared) {
      // Whatever the previous owner committed last is what this process resumes from.
      const latest = await store.loadState(handlerId);
      if (latest?.status !== "running") {
        await ownership.release(handlerId);
        return null;
      }
      Object.assign(state, latest);
      const again = this.#live.get(handlerId);
      if (again) return again;
    }
    let decision: Awaited<ReturnType<typeof guardResume>>;
    let current = record;
    try {
      if (ownership.shared) current = (await store.getHandler(handlerId)) ?? record;
      decision = await guardResume(current, state, {
        store,
        ownership,
        logger,
        maxResumeAttempts: this.#o.maxResumeAttempts,
        now: () => new Date(this.#o.clock.now()).toISOString(),
      });
    } catch (error) {
      logger.error("could not count a resume: the handler is not resumed now", { handlerId, error });
      return null;
    }
    try {
      this.#checkOpen();
      const already = this.#live.get(handlerId);
      if (already) return already;
      const run = this.#begin(handlerId, entry, (journal) =>
        entry.workflow.run(undefined, {
          context: state,
          journal,
          keepHistory: false,
          additionalEvents: entry.additionalEvents,
          clock: this.#o.clock,
          ...(decision.resume ? {} : { abandonWith: decision.abandon }),
        }),
      );
      run.resumeAttempts = decision.resume ? decision.attempts : 0;
      if (ownership.shared && decision.resume) void this.#drainInbox(run);
      return run;
    } catch (error) {
      if (error instanceof WorkflowError && error.code === "SERVER_CLOSING") throw error;
      this.#blocked.set(handlerId, error instanceof Error ? error.message : String(error));
      logger.error("could not resume a handler", { handlerId, error });
      // Its code never ran: a blocked run must not reach the crash-loop limit by restarts.
      if (decision.resume) {
        const undo = { handlers: [current], fence: ownership.fences([handlerId]) };
        await store.commit(undo).catch(() => undefined);
      }
      return null;
    }
  }

  #begin(
    handlerId: string,
    entry: RegisteredWorkflow,
    run: (journal: LiveRun) => NonNullable<LiveRun["handler"]>,
    key?: (run: LiveRun) => KeyWrite,
  ): LiveRun {
    this.#wakes.cancel(handlerId);
    const live = new LiveRun(
      handlerId,
      entry,
      this.#o.clock,
      (r, published) => this.#changed(r, published),
      this.#o.metrics?.forRun(entry.name) ?? null,
      this.#o.logger,
    );
    this.#live.set(handlerId, live);
    try {
      live.handler = run(live);
    } catch (error) {
      this.#live.delete(handlerId);
      this.#o.writer.forget(handlerId);
      throw error;
    }
    // In the same turn as the run's first change: the key joins the handler's first commit.
    if (key) this.#o.writer.attachKey(live, key(live));
    const handler = live.handler;
    void handler.done.then(async () => {
      let failure: unknown = null;
      try {
        await this.#o.writer.flush(handlerId);
      } catch (error) {
        failure = error;
      }
      this.#clearIdle(live);
      if (this.#live.get(handlerId) === live) {
        this.#live.delete(handlerId);
        if (failure === null) void this.#o.ownership.release(handlerId);
      }
      this.#endWaiters.settle(handlerId, failure);
    });
    return live;
  }

  #changed(run: LiveRun, published: readonly EventRow[]): void {
    this.#o.writer.changed(run, published);
    const state = run.state;
    if (state.status === "running" && state.idle) {
      if (run.idleTimer === null && Number.isFinite(this.#o.idleReleaseMs) && !this.#closing) {
        run.idleTimer = background(
          this.#o.clock,
          () => {
            run.idleTimer = null;
            void this.#release(run);
          },
          this.#o.idleReleaseMs,
        );
      }
    } else {
      this.#clearIdle(run);
    }
  }

  async #release(run: LiveRun): Promise<void> {
    const { writer, logger } = this.#o;
    if (this.#live.get(run.handlerId) !== run) return;
    try {
      await writer.flush();
    } catch (error) {
      logger.warn("idle release postponed: the store did not take the run's state", { error });
    }
    const state = run.state;
    if (this.#live.get(run.handlerId) !== run || state.status !== "running" || !state.idle) return;
    if (writer.isPending(run.handlerId)) {
      // Something changed while the state was written: try again after another idle period.
      this.#changed(run, []);
      return;
    }
    run.handler?.suspend();
    this.#live.delete(run.handlerId);
    this.#scheduleWake(run.handlerId, earliestTimer(state));
    const { ownership, store } = this.#o;
    await ownership.release(run.handlerId);
    if (ownership.shared) {
      // An event may have reached the inbox while this process still held the lease.
      const waiting = await store.readInbox(run.handlerId).catch(() => []);
      if (waiting.length > 0) await this.acquire(run.handlerId).catch(() => null);
    }
  }

  #clearIdle(run: LiveRun): void {
    if (run.idleTimer !== null) {
      this.#o.clock.clearTimeout(run.idleTimer);
      run.idleTimer = null;
    }
  }

  #scheduleWake(handlerId: string, at: number | null): void {
    if (this.#closing) {
      this.#wakes.cancel(handlerId);
      return;
    }
    this.#wakes.schedule(handlerId, at, () =>
      this.acquire(handlerId).catch((error: unknown) =>
        this.#o.logger.error("could not wake a released handler", { handlerId, error }),
      ),
    );
  }

  #drainInbox(run: LiveRun): Promise<void> {
    const { store, writer, logger } = this.#o;
    return drainInbox(run, { store, writer, logger, current: () => this.#live.get(run.handlerId) === run });
  }
}

function blockedError(handlerId: string, reason: string): WorkflowError {
  return new WorkflowError(
    "HANDLER_BLOCKED",
    `Handler "${handlerId}" is running but cannot go on with the code now loaded: ${reason}. Cancel it, or start the server with code that fits`,
  );
}
