import { pendingChildren } from "../../core/child-runs.js";
import { randomId, timeOrderedId } from "../../core/clock.js";
import { WorkflowError, type WorkflowEvent } from "../../core/index.js";
import { LeaseLostError } from "../../stores/leases.js";
import type { EventRow } from "../../stores/store.js";
import { type OwnedRuns, type Ownership, takeForStart } from "../cluster/ownership.js";
import type { KeyWrite } from "../idempotency/key-write.js";
import type { RegisteredWorkflow } from "../registry.js";
import { ReleasingMap } from "../releasing-map.js";
import { BlockedRuns } from "./blocked-runs.js";
import { cancelRun } from "./cancel-run.js";
import { ChildRuns } from "./child-runs.js";
import type { CommitWriter } from "./commit-writer.js";
import { continuation, running, type StartedRun, type StartRequest, startToKeep } from "./continuation.js";
import { EndWaiters } from "./end-waiters.js";
import { IdleRuns, releaseIdle } from "./idle-runs.js";
import { drainInbox, sendToInbox } from "./inbox.js";
import type { LiveRun } from "./live-run.js";
import { blockResume, loadResumable, resumeStored } from "./resume-loader.js";
import { afterRunEnd, type RunEndContext } from "./run-end.js";
import { RunLimits } from "./run-limits.js";
import { linksOf } from "./run-links.js";
import { newLiveRun, type RunManagerOptions, runOptions } from "./run-manager-options.js";
import { type SendContext, sendOutside } from "./send-event.js";
import { startEventJson } from "./start-events.js";
import { Waker } from "./waker.js";

export type { StartedHandler, StartedRun, StartRequest } from "./continuation.js";
export type { RunManagerOptions } from "./run-manager-options.js";

/** A handler that runs in another server process sharing the store. */
const REMOTE = "remote";
type Remote = typeof REMOTE;

/**
 * Every run this process holds in memory: starts, continues, resumes and releases them, and routes
 * outside events and cancellations to them. Persistence goes through the {@link CommitWriter}; which
 * handlers this process may run is its {@link Ownership}'s to say.
 */
export class RunManager implements OwnedRuns {
  readonly #o: RunManagerOptions;
  readonly #live = new ReleasingMap<string, LiveRun>();
  readonly #claims = new Set<string>();
  readonly #loading = new ReleasingMap<string, Promise<LiveRun | Remote | null>>();
  readonly #idle: IdleRuns;
  readonly #endWaiters: EndWaiters;
  readonly #runEnd: RunEndContext;
  readonly #blocked = new BlockedRuns();
  #closing = false;
  readonly #children: ChildRuns;
  readonly #sendContext: SendContext;
  readonly #limits: RunLimits;

  constructor(options: RunManagerOptions) {
    this.#o = options;
    this.#sendContext = {
      ...this.#o,
      blocked: this.#blocked,
      live: (id) => this.#live.get(id),
      busy: (id) => this.#busy(id),
      locate: (id) => this.#locate(id),
      toInbox: (id, event, step, k) => this.#toInbox(id, event, step, k),
    };
    this.#children = new ChildRuns({
      ...options,
      start: (entry, request) => this.start(entry, request),
      send: (id, event) => this.send(id, event, null),
      cancel: (id) => this.cancel(id, false),
      runs: this,
      drainInbox: (run) => this.#drainInbox(run),
      durable: (id) => options.writer.flush(id),
      rewrite: (run) => options.writer.changed(run, []),
    });
    // A released run whose timer is due is loaded (it arms its timers), unless it is here.
    const wake = async (id: string) => void (this.#live.has(id) || this.#closing || (await this.acquire(id)));
    this.#idle = new IdleRuns(options.clock, options.idleReleaseMs, new Waker({ ...options, wake }));
    this.#endWaiters = new EndWaiters(options.store, options.clock);
    this.#runEnd = {
      writer: options.writer,
      ownership: options.ownership,
      endWaiters: this.#endWaiters,
      ended: (run) => [this.#children.ended(run), this.#limits.ended(run)],
      forget: (run) => {
        this.#idle.disarm(run);
        return this.#live.get(run.handlerId) === run && this.#live.delete(run.handlerId);
      },
    };
    this.#limits = new RunLimits({
      ...options,
      endWaiters: this.#endWaiters,
      acquire: (id) => this.acquire(id),
    });
    options.writer.onUnwritable((id, error) => this.#unwritable(id, error));
    // While commits fail (store down), no run starts a step whose result could not be stored.
    options.writer.health.onChange((failing) => {
      for (const run of this.#live.values()) run.engine?.hold(failing);
    });
  }

  /** Runs held in memory. */
  get liveCount(): number {
    return this.#live.size;
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
    const handlerId = request.handlerId || request.newId || timeOrderedId(this.#o.clock.now());
    if (this.#busy(handlerId) || this.#claims.has(handlerId)) throw running(handlerId);
    this.#claims.add(handlerId);
    try {
      const limitKey = this.#limits.keyOf(entry, request.start);
      // Awaited only when it reads the store: most starts carry nothing on.
      const carried = continuation(this.#o.store, entry, handlerId, request);
      const { context, firstSequence } = carried instanceof Promise ? await carried : carried;
      this.#checkOpen();
      if (this.#busy(handlerId)) throw running(handlerId);
      if (limitKey !== null)
        return await this.#limits.enqueue(entry, request, { handlerId, context, firstSequence, limitKey });
      const owned = takeForStart(this.#o.ownership, handlerId, !request.handlerId);
      if (owned !== true && !(await owned)) throw running(handlerId);
      const firstEvent = request.fork ? request.start : undefined;
      const run = this.#begin(
        handlerId,
        entry,
        entry.workflow.version,
        (journal) =>
          entry.workflow.run(
            request.start,
            runOptions(this.#o, entry, journal, { context, runId: randomId(), firstSequence, firstEvent }),
          ),
        request.key,
      );
      if (request.links) run.links = request.links;
      const keep = startToKeep(request);
      if (keep) this.#o.writer.keepStart(run, startEventJson(keep));
      this.#o.metrics?.runStarted(entry.name);
      // Registered in the same turn: a run's end settles only after a commit, in a later one.
      const ended = request.awaitEnd ? this.#endWaiters.wait(handlerId) : null;
      return { handlerId, run, record: () => run.record(), ended };
    } finally {
      this.#claims.delete(handlerId);
    }
  }

  /** The run of a handler, in memory or loaded from the store; null when it is not running here. */
  async acquire(handlerId: string): Promise<LiveRun | null> {
    const found = await this.#locate(handlerId);
    return found === REMOTE ? null : found;
  }

  #locate(handlerId: string): Promise<LiveRun | Remote | null> {
    const live = this.#live.get(handlerId);
    if (live) return Promise.resolve(live);
    const loading = this.#loading.get(handlerId);
    if (loading) return loading;
    const promise = this.#load(handlerId).finally(() => this.#loading.delete(handlerId));
    this.#loading.set(handlerId, promise);
    return promise;
  }

  /** Delivers an outside event; resolves once it is durable (with `key`, when given). */
  send(handlerId: string, event: WorkflowEvent, step: string | null, key?: () => KeyWrite): Promise<void> {
    return sendOutside(this.#sendContext, handlerId, event, step, key);
  }

  /** Hands an event to the process that runs the handler through the inbox; nobody does: runs it here. */
  #toInbox(id: string, event: WorkflowEvent, step: string | null, key?: () => KeyWrite): Promise<void> {
    return sendToInbox({ ...this.#o, acquire: (h) => this.acquire(h) }, id, event, step, key);
  }

  /** Handlers this process runs (for lease renewal). */
  liveIds = (): string[] => [...this.#live.keys()];
  isLive = (handlerId: string): boolean => this.#live.has(handlerId);

  /** Another process sharing the store has changed these handlers: take in their inbox items. */
  changedElsewhere(handlerIds: readonly string[]): void {
    if (!this.#o.ownership.shared) return;
    for (const id of handlerIds) {
      const run = this.#live.get(id);
      if (run) void this.#drainInbox(run);
    }
  }

  /** Stop running these here: taken over by another process, or their leases could not be kept. */
  lost(handlerIds: readonly string[], takenOver = true): void {
    const why = new LeaseLostError(handlerIds);
    for (const id of handlerIds) {
      this.#o.ownership.drop(id);
      this.#o.writer.forget(id, why);
      // Said only when the store said so: cut off from it, this process cannot know.
      if (this.#drop(id) && takenOver)
        this.#o.logger.warn("a handler was taken over by another server process", { handlerId: id });
    }
  }

  /**
   * Cancels a running handler; with `purge`, deletes it (ended or not) and everything stored for it.
   * `key` is written with the cancellation, or with the deletion.
   */
  async cancel(handlerId: string, purge: boolean, key?: () => KeyWrite): Promise<"cancelled" | "deleted"> {
    return cancelRun(handlerId, purge, key, {
      ...this.#sendContext,
      ...this.#o,
      cancelQueued: (record, k) => this.#limits.cancelQueued(record, k),
      forget: (id) => {
        this.#drop(id);
        this.#idle.cancelWake(id);
        this.#o.writer.forget(id);
      },
    }).finally(() => void this.#limits.sweep());
  }

  /** After a start: resumes every running handler (idle ones wait in the store for an event or a timer). */
  async resumeAll(): Promise<void> {
    await resumeStored({
      ...this.#o,
      blocked: this.#blocked,
      closing: () => this.#closing,
      isLive: (id) => this.#live.has(id),
      releases: this.#idle.releases,
      resume: (id) => this.acquire(id),
      scheduleWake: (id, at) => this.#idle.scheduleWake(id, at),
    });
    this.#idle.startWaking();
    this.#limits.start();
  }

  /** Stops every run in memory without ending it; they stay `running` in the store, resumable. */
  suspendAll(): void {
    this.#closing = true;
    this.#limits.close();
    for (const run of this.#live.values()) {
      this.#idle.disarm(run);
      run.handler?.suspend();
      // Stopped in good order: this resume did not take the process down, so it does not count.
      if (run.resumeAttempts > 0 && run.engine) {
        run.resumeAttempts = 0;
        this.#o.writer.changed(run, []);
      }
    }
    this.#live.clear();
    this.#idle.close();
    const closing = new WorkflowError("SERVER_CLOSING", "The server is shutting down");
    this.#endWaiters.rejectAll(closing);
  }

  // ---- internals -----------------------------------------------------------------------------------

  /** Busy: in memory, being loaded, or with changes the writer holds (an end not yet durable). */
  #busy(handlerId: string): boolean {
    return this.#live.has(handlerId) || this.#loading.has(handlerId) || this.#o.writer.holds(handlerId);
  }

  /** The store refused the handler's changes: dropped as after a crash, resumed when next acquired. */
  #unwritable(handlerId: string, error: WorkflowError): void {
    this.#endWaiters.settle(handlerId, error);
    this.#drop(handlerId);
    void this.#o.ownership
      .release(handlerId)
      .catch((e: unknown) =>
        this.#o.logger.warn("could not release a dropped handler", { handlerId, error: e }),
      );
  }

  /** Stops a run in memory without ending it, and forgets it here. */
  #drop(handlerId: string): LiveRun | undefined {
    const run = this.#live.get(handlerId);
    if (!run) return undefined;
    this.#idle.disarm(run);
    run.handler?.suspend();
    this.#live.delete(handlerId);
    // A sync `run` waiting for its end answers from the store, wherever the run ends now.
    this.#endWaiters.leave(handlerId);
    return run;
  }

  #checkOpen(): void {
    if (this.#closing) throw new WorkflowError("SERVER_CLOSING", "The server is shutting down");
  }

  async #load(handlerId: string): Promise<LiveRun | Remote | null> {
    const loaded = await loadResumable(handlerId, {
      ...this.#o,
      blocked: this.#blocked,
      isLive: (id) => this.#live.has(id),
      checkOpen: () => this.#checkOpen(),
    });
    if (loaded === "remote") return REMOTE;
    if (loaded === "live") return this.#live.get(handlerId) ?? null;
    if (loaded === null) return null;
    const { entry, state, decision, record, start } = loaded;
    const admitted = state?.pendingStart !== undefined;
    try {
      this.#checkOpen();
      // A scheduled run of a workflow with a run limit waits in the limit's queue, as any start does.
      const limitKey = !state && start ? this.#limits.keyOf(entry, start) : null;
      if (start && limitKey !== null) {
        const q = { handlerId, context: null, firstSequence: 0, limitKey };
        await this.#limits.queueScheduled(
          entry,
          { start, context: null, handlerId, links: linksOf(record) },
          q,
        );
        return null;
      }
      const already = this.#live.get(handlerId);
      if (already) return already;
      const run = this.#begin(handlerId, entry, record.workflowVersion ?? null, (journal) =>
        entry.workflow.run(
          start,
          runOptions(this.#o, entry, journal, {
            context: state ?? undefined,
            runId: state ? undefined : randomId(),
            abandonWith: decision.resume ? undefined : decision.abandon,
          }),
        ),
      );
      run.resumeAttempts = decision.resume ? decision.attempts : 0;
      run.links = linksOf(record);
      // Events sent to a queued run wait in its inbox (it ran nowhere): taken in as it begins; a parent
      // waiting for children takes in their ends. Taken in before the run is handed out, so that an
      // event sent to it next comes after them.
      if (
        decision.resume &&
        (this.#o.ownership.shared || admitted || (state && pendingChildren(state).length > 0))
      )
        await this.#drainInbox(run);
      return run;
    } catch (error) {
      if (error instanceof WorkflowError && error.code === "SERVER_CLOSING") throw error;
      await blockResume(handlerId, error, loaded, { ...this.#o, blocked: this.#blocked });
      return null;
    }
  }

  #begin(
    handlerId: string,
    entry: RegisteredWorkflow,
    version: string | null,
    run: (journal: LiveRun) => NonNullable<LiveRun["handler"]>,
    key?: (run: LiveRun) => KeyWrite,
  ): LiveRun {
    this.#idle.cancelWake(handlerId);
    const live = newLiveRun(this.#o, handlerId, entry, (r, published) => this.#changed(r, published));
    live.workflowVersion = version;
    this.#live.set(handlerId, live);
    try {
      live.handler = run(live);
      if (this.#o.writer.failure !== null) live.engine?.hold(true);
    } catch (error) {
      this.#live.delete(handlerId);
      this.#o.writer.forget(handlerId);
      throw error;
    }
    // In the same turn as the run's first change: the key joins the handler's first commit.
    if (key) this.#o.writer.attachKey(live, key(live));
    const handler = live.handler;
    void handler.done.then(() => afterRunEnd(live, this.#runEnd));
    return live;
  }

  #changed(run: LiveRun, published: readonly EventRow[]): void {
    this.#o.writer.changed(run, published);
    this.#children.changed(run);
    const state = run.state;
    if (state.status === "running" && state.idle && !this.#closing) {
      this.#idle.arm(run, () => void this.#release(run));
    } else {
      this.#idle.disarm(run);
    }
  }

  #release(run: LiveRun): Promise<void> {
    return releaseIdle(run, {
      ...this.#o,
      current: (r) => this.#live.get(r.handlerId) === r,
      rearm: (r) => this.#changed(r, []),
      forget: (r) => this.#drop(r.handlerId),
      scheduleWake: (id, at) => this.#idle.scheduleWake(id, at),
      acquire: (id) => this.acquire(id),
    });
  }

  #drainInbox(run: LiveRun): Promise<void> {
    const { store, writer, logger } = this.#o;
    return drainInbox(run, { store, writer, logger, current: () => this.#live.get(run.handlerId) === run });
  }
}
