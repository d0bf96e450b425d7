import { type Clock, isoTime, randomId } from "../../core/clock.js";
import { WorkflowError, type WorkflowEvent } from "../../core/index.js";
import { queuedRunState } from "../../core/initial-state.js";
import { parseRunState } from "../../core/state-codec.js";
import { type HandlerRecord, notBegunRecord, type Store, stateJson } from "../../stores/store.js";
import { background } from "../clock-timers.js";
import { fence, type Ownership } from "../cluster/ownership.js";
import type { KeyWrite } from "../idempotency/key-write.js";
import type { ServerLogger } from "../logger.js";
import type { RegisteredWorkflow, WorkflowRegistry } from "../registry.js";
import { ReleasingMap } from "../releasing-map.js";
import { cancelStored } from "./cancel-stored.js";
import { running, type StartedRun, type StartRequest, startToKeep } from "./continuation.js";
import type { EndWaiters } from "./end-waiters.js";
import type { LiveRun } from "./live-run.js";
import { NO_LINKS } from "./run-links.js";
import { startEventJson } from "./start-events.js";

/**
 * How often the queues are looked at besides the ends of limited runs: an admission a process did
 * not finish (it died between ending a run and admitting the next) is made by the next look.
 */
const SWEEP_MS = 15_000;

export interface RunLimitsContext {
  store: Store;
  registry: WorkflowRegistry;
  ownership: Ownership;
  clock: Clock;
  logger: ServerLogger;
  endWaiters: EndWaiters;
  /** Loads an admitted handler from the store and runs it here (RunManager.acquire). */
  acquire(handlerId: string): Promise<unknown>;
}

/** What a start of a limited run knows once its handler id and continuation are settled. */
export interface QueuedStart {
  handlerId: string;
  context: unknown;
  firstSequence: number;
  limitKey: string;
}

/**
 * Run limits (`addWorkflow(…, { concurrency })`): a new run of a limited workflow is written to the
 * store queued (status `running`, `queued`), holding no memory; the store admits the oldest queued
 * runs of its key while fewer than `limit` run (`Store.admitQueued`, atomic across processes), and
 * this process then loads and runs what it admitted, as it resumes any stored run. Admissions are
 * made after each start, after each limited run's durable end, and every {@link SWEEP_MS}; in this
 * process those of one key take turns, so admitted runs begin in their queue's order.
 */
export class RunLimits {
  readonly #c: RunLimitsContext;
  readonly #turns = new ReleasingMap<string, Promise<unknown>>();
  #timer: unknown = null;
  #closed = false;

  constructor(context: RunLimitsContext) {
    this.#c = context;
  }

  /** The key a new run counts against (its workflow and the `key` of its start event's data), or null. */
  keyOf(entry: RegisteredWorkflow, start: WorkflowEvent): string | null {
    const limit = entry.concurrency;
    if (!limit) return null;
    if (!limit.key) return JSON.stringify([entry.name]);
    let key: unknown;
    try {
      key = limit.key(start.data);
    } catch (error) {
      throw keyError(
        entry.name,
        `its key function threw: ${error instanceof Error ? error.message : String(error)}`,
      );
    }
    if (typeof key !== "string")
      throw keyError(entry.name, `its key function returned ${typeof key}, not a string`);
    return JSON.stringify([entry.name, key]);
  }

  /**
   * Writes a new run queued (with the request's idempotency key), then admits what its key has room
   * for, this run maybe. A sync `run` waits for its end through the store: it may run anywhere.
   */
  async enqueue(
    entry: RegisteredWorkflow,
    request: StartRequest,
    q: QueuedStart,
    admitNow = true,
  ): Promise<StartedRun> {
    const { store, ownership, clock, endWaiters } = this.#c;
    const { handlerId, limitKey } = q;
    const prior = q.context === null ? null : parseRunState(q.context, entry.workflow);
    if (prior?.status === "running") {
      throw new WorkflowError(
        "INVALID_CONTEXT",
        `Workflow "${entry.name}" has a run limit: a run starts from an ended run's context, not a running one`,
      );
    }
    const now = clock.now();
    const state = queuedRunState(entry.workflow, request.start, {
      runId: randomId(),
      now,
      firstSequence: q.firstSequence,
      prior,
    });
    const fields = {
      handlerId,
      workflowName: entry.name,
      runId: state.runId,
      workflowVersion: entry.workflow.version,
    };
    const links = { ...(request.links ?? NO_LINKS), limitKey, queued: true };
    let record = notBegunRecord(
      { ...fields, resumeAttempts: 0, blocked: null, wakeAt: null, ...links },
      isoTime(now),
    );
    const owned = ownership.acquire(handlerId);
    if (owned !== true && !(await owned)) throw running(handlerId);
    try {
      const keep = startToKeep(request);
      const startEvents = keep ? [{ handlerId, json: startEventJson(keep) }] : [];
      const batch = fence(
        { handlers: [record], states: [{ handlerId, json: stateJson(state), idleUntil: null }], startEvents },
        ownership,
        [handlerId],
      );
      const key = request.key?.({ handlerId, record: () => record });
      if (key) await key.through((k) => store.commit({ ...batch, keys: [k] }));
      else await store.commit(batch);
    } finally {
      await ownership.release(handlerId);
    }
    // Registered before any admission: the run may end before this call returns.
    const ended = request.awaitEnd ? endWaiters.wait(handlerId) : null;
    if (ended) endWaiters.leave(handlerId);
    const admitted = admitNow ? await this.admit(limitKey) : [];
    if (admitted.includes(handlerId)) record = { ...record, queued: false };
    else record = (await store.getHandler(handlerId)) ?? record;
    const answer = record;
    return { handlerId, run: null, record: () => answer, ended };
  }

  /** Admits the oldest queued runs of `limitKey` the limit has room for and runs them here, in order. */
  admit(limitKey: string): Promise<string[]> {
    return this.#turn(limitKey, async () => {
      const limit = this.#limitOf(limitKey);
      if (limit === null || this.#closed) return [];
      const ids = await this.#c.store.admitQueued(limitKey, limit);
      for (const id of ids) {
        try {
          await this.#c.acquire(id);
        } catch (error) {
          // Stays admitted in the store: resumed at the next start, or taken over on Postgres.
          this.#c.logger.warn("could not start an admitted run", { handlerId: id, error });
        }
      }
      return ids;
    });
  }

  /** A limited run's end is durable: its place goes to the next queued run. */
  ended(run: LiveRun): void {
    const limitKey = run.links.limitKey;
    if (limitKey) this.#admitInBackground(limitKey);
  }

  /**
   * A scheduled run being loaded goes in its queue; admission follows once that load is over (it
   * loads the run again, which must not find this load still going).
   */
  async queueScheduled(entry: RegisteredWorkflow, request: StartRequest, q: QueuedStart): Promise<void> {
    await this.enqueue(entry, request, q, false);
    setImmediate(() => this.#admitInBackground(q.limitKey));
  }

  #admitInBackground(limitKey: string): void {
    void this.admit(limitKey).catch((error: unknown) => this.#failed(error));
  }

  /**
   * Cancels a run while it waits in its queue, in the store, without running it; false when it is not
   * queued (any more: it was admitted meanwhile, and is cancelled as any run).
   */
  async cancelQueued(record: HandlerRecord, key?: () => KeyWrite): Promise<boolean> {
    const limitKey = record.limitKey;
    if (!record.queued || !limitKey) return false;
    return this.#turn(limitKey, async () => {
      const { store, ownership, clock } = this.#c;
      const owned = ownership.acquire(record.handlerId);
      if (owned !== true && !(await owned)) return false;
      try {
        const latest = await store.getHandler(record.handlerId);
        if (latest?.status !== "running" || !latest.queued) return false;
        await cancelStored(store, { ...latest, queued: false }, clock.now(), ownership, key);
        return true;
      } finally {
        await ownership.release(record.handlerId);
      }
    });
  }

  /** Admits what every queue has room for (the places of runs that ended without admitting). */
  async sweep(): Promise<void> {
    if (this.#closed || !this.#c.registry.names.some((n) => this.#c.registry.get(n)?.concurrency)) return;
    try {
      for (const limitKey of await this.#c.store.queuedKeys(1000)) await this.admit(limitKey);
    } catch (error) {
      this.#failed(error);
    }
  }

  /** Sweeps now, then every {@link SWEEP_MS}. */
  start(): void {
    if (this.#timer !== null || this.#closed) return;
    const tick = () => {
      this.#timer = background(this.#c.clock, tick, SWEEP_MS);
      void this.sweep();
    };
    tick();
  }

  close(): void {
    this.#closed = true;
    if (this.#timer !== null) this.#c.clock.clearTimeout(this.#timer);
    this.#timer = null;
  }

  /** Runs `work` after the work of `limitKey` before it, in this process. */
  #turn<T>(limitKey: string, work: () => Promise<T>): Promise<T> {
    const turn = (this.#turns.get(limitKey) ?? Promise.resolve()).then(work);
    const settled = turn.catch(() => undefined);
    this.#turns.set(limitKey, settled);
    void settled.then(() => {
      if (this.#turns.get(limitKey) === settled) this.#turns.delete(limitKey);
    });
    return turn;
  }

  /** The limit of a key's workflow, when it is registered here with one. */
  #limitOf(limitKey: string): number | null {
    let name: unknown;
    try {
      name = (JSON.parse(limitKey) as unknown[])[0];
    } catch {
      return null;
    }
    return typeof name === "string" ? (this.#c.registry.get(name)?.concurrency?.limit ?? null) : null;
  }

  #failed(error: unknown): void {
    if (error instanceof WorkflowError && error.code === "SERVER_CLOSING") return;
    this.#c.logger.warn("could not admit queued runs (tried again later)", { error });
  }
}

const keyError = (workflow: string, why: string): WorkflowError =>
  new WorkflowError("VALIDATION_ERROR", `The run limit of workflow "${workflow}" has no key: ${why}`, {
    issues: [{ path: "start_event", message: why }],
  });
