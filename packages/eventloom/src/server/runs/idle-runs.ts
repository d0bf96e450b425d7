import { pendingChildren } from "../../core/child-runs.js";
import type { Clock } from "../../core/index.js";
import { earliestTimer } from "../../core/run-timers.js";
import type { Store } from "../../stores/store.js";
import { background } from "../clock-timers.js";
import type { Ownership } from "../cluster/ownership.js";
import type { ServerLogger } from "../logger.js";
import type { CommitWriter } from "./commit-writer.js";
import type { LiveRun } from "./live-run.js";
import type { Waker } from "./waker.js";

/**
 * The timers of idle runs: the idle timer that releases a run from memory after `idleReleaseMs`
 * without a change, and the waking of released runs at their earliest durable timer (the
 * {@link Waker}: no timer per released run).
 */
export class IdleRuns {
  readonly #clock: Clock;
  readonly #idleReleaseMs: number;
  readonly #waker: Waker;
  #closed = false;

  constructor(clock: Clock, idleReleaseMs: number, waker: Waker) {
    this.#clock = clock;
    this.#idleReleaseMs = idleReleaseMs;
    this.#waker = waker;
  }

  /** Whether idle runs are released at all (`idleReleaseMs` is finite). */
  get releases(): boolean {
    return Number.isFinite(this.#idleReleaseMs);
  }

  /** Wakes of released runs held in memory now (the next due ones only). */
  get wakeCount(): number {
    return this.#waker.size;
  }

  /** Starts waking released runs whose timers are due (after the server resumed what it had). */
  startWaking(): void {
    if (this.releases && !this.#closed) this.#waker.start();
  }

  /** Arms the run's idle timer, unless it is armed already; `release` is called when it fires. */
  arm(run: LiveRun, release: () => void): void {
    if (run.idleTimer !== null || !this.releases || this.#closed) return;
    run.idleTimer = background(
      this.#clock,
      () => {
        run.idleTimer = null;
        // Due within the waker's lead, it would be loaded again at once: kept until its timer fires.
        const at = run.state.status === "running" ? earliestTimer(run.state) : null;
        if (at !== null && at - this.#clock.now() <= this.#waker.leadMs) this.arm(run, release);
        else release();
      },
      this.#idleReleaseMs,
    );
  }

  disarm(run: LiveRun): void {
    if (run.idleTimer !== null) {
      this.#clock.clearTimeout(run.idleTimer);
      run.idleTimer = null;
    }
  }

  /** A run released from memory wakes at `at` (epoch ms; null: only an event wakes it). */
  scheduleWake(handlerId: string, at: number | null): void {
    if (!this.#closed) this.#waker.note(handlerId, at);
  }

  cancelWake(handlerId: string): void {
    this.#waker.cancel(handlerId);
  }

  /** No more idle or wake timers (the server is closing). */
  close(): void {
    this.#closed = true;
    this.#waker.close();
  }
}

export interface IdleReleaseContext {
  writer: CommitWriter;
  store: Store;
  ownership: Ownership;
  logger: ServerLogger;
  /** Whether this run is still the one in memory for its handler. */
  current(run: LiveRun): boolean;
  /** Something changed meanwhile: arm the idle timer again. */
  rearm(run: LiveRun): void;
  /** Stops the run in memory without ending it and forgets it. */
  forget(run: LiveRun): void;
  scheduleWake(handlerId: string, at: number | null): void;
  acquire(handlerId: string): Promise<unknown>;
}

/**
 * Releases an idle run from memory once its state is durable: it stays `running` in the store, woken
 * by its earliest timer or by an event. Postponed when the store does not take its state.
 */
export async function releaseIdle(run: LiveRun, c: IdleReleaseContext): Promise<void> {
  if (!c.current(run)) return;
  try {
    await c.writer.flush();
  } catch (error) {
    c.logger.warn("idle release postponed: the store did not take the run's state", { error });
  }
  const state = run.state;
  if (!c.current(run) || state.status !== "running" || !state.idle) return;
  if (c.writer.isPending(run.handlerId)) {
    // Something changed while the state was written: try again after another idle period.
    c.rearm(run);
    return;
  }
  c.forget(run);
  c.scheduleWake(run.handlerId, earliestTimer(state));
  await c.ownership.release(run.handlerId);
  if (c.ownership.shared || pendingChildren(state).length > 0) {
    // An event (a child's end) may have reached the inbox while the run was still held here.
    const waiting = await c.store.readInbox(run.handlerId).catch(() => []);
    if (waiting.length > 0) await c.acquire(run.handlerId).catch(() => null);
  }
}
