import { isoTime, randomId, WorkflowError, type WorkflowEvent } from "../core/index.js";
import type { FencedCommitBatch, LeaseStore } from "../stores/leases.js";
import type { Store } from "../stores/store.js";
import type { CommitWriter } from "./commit-writer.js";
import type { HandlerSignals } from "./handler-signals.js";
import { cancelRequest, InboxDelivery } from "./inbox-delivery.js";
import type { LiveRun } from "./live-run.js";
import type { ServerLogger } from "./logger.js";
import { Ownership } from "./ownership.js";
import type { RegisteredWorkflow } from "./registry.js";

/** What the run manager asks of the multi-process coordination (present only with a lease store). */
export interface RunOwnershipHooks {
  /** Takes the handler's lease for this process before it runs here; false when another process runs it. */
  claim(handlerId: string): Promise<boolean>;
  /** A run was resumed here from the store: deliver what waits in its inbox. */
  resumed(handlerId: string): void;
  /** The run ended and its last commit is durable: give its lease up. */
  ended(handlerId: string): void;
  /** An idle run left memory: park its lease until its earliest timer (epoch ms, or null). */
  parked(handlerId: string, wakeAt: number | null): void;
  /** An event for a handler this process does not run: record it durably for its owner. */
  sendElsewhere(entry: RegisteredWorkflow, handlerId: string, event: WorkflowEvent, step: string | null): Promise<void>;
  /** Cancellation of a handler another process runs: ask its owner, and wait until it is applied. */
  cancelElsewhere(handlerId: string): Promise<void>;
}

/** What the coordination needs from the run manager. */
export interface ManagedRuns {
  live(handlerId: string): LiveRun | undefined;
  acquire(handlerId: string): Promise<LiveRun | null>;
  drop(handlerId: string): void;
}

export interface MultiProcessOptions {
  store: Store & LeaseStore;
  leaseTtlMs: number;
  logger: ServerLogger;
  signals: HandlerSignals;
  /** How long a cancellation through a non-owner waits for the owner to apply it. Default 2 × ttl, at least 10 s. */
  cancelWaitMs?: number;
}

/**
 * Makes one server process correct among several sharing a store with leases: each running handler
 * runs in exactly one process (the lease holder), every commit is fenced, events and cancellations
 * sent through another process go through the handler's durable inbox to its owner, and dead
 * processes' handlers are taken over.
 */
export class MultiProcess implements RunOwnershipHooks {
  readonly ownership: Ownership;
  readonly inbox: InboxDelivery;
  readonly #o: MultiProcessOptions;
  #runs: ManagedRuns | null = null;
  #writer: CommitWriter | null = null;

  constructor(options: MultiProcessOptions) {
    this.#o = options;
    this.ownership = new Ownership({ store: options.store, ttlMs: options.leaseTtlMs, logger: options.logger });
    this.inbox = new InboxDelivery({
      store: options.store,
      logger: options.logger,
      owned: (id) => (this.ownership.holds(id) ? this.#runs?.live(id) : undefined),
      touch: (run) => this.#writer?.changed(run, []),
    });
  }

  /** Wires the runs and the writer, then starts the heartbeat and takes over what is orphaned. */
  async start(runs: ManagedRuns, writer: CommitWriter): Promise<void> {
    this.#runs = runs;
    this.#writer = writer;
    await this.ownership.start({
      acquire: (id) => runs.acquire(id),
      isLive: (id) => runs.live(id) !== undefined,
      drop: (id) => this.#drop(id),
    });
  }

  /** The commit writer's hook: fences and inbox acknowledgements for the batch being cut. */
  prepare(batch: FencedCommitBatch, handlerIds: readonly string[]): void {
    batch.fence = this.ownership.fences(handlerIds);
    this.inbox.prepare(batch, handlerIds);
  }

  committed(handlerIds: readonly string[]): void {
    this.inbox.committed(handlerIds);
  }

  /** A fenced commit found these leases taken: stop the runs here, they run elsewhere now. */
  leaseLost(handlerIds: readonly string[]): void {
    this.ownership.lost(handlerIds);
    for (const id of handlerIds) this.#drop(id);
  }

  claim(handlerId: string): Promise<boolean> {
    return this.ownership.claim(handlerId);
  }

  resumed(handlerId: string): void {
    void this.inbox.drain(handlerId);
  }

  ended(handlerId: string): void {
    this.inbox.forget(handlerId);
    void this.ownership.release(handlerId);
  }

  parked(handlerId: string, wakeAt: number | null): void {
    this.inbox.forget(handlerId);
    void this.ownership.park(handlerId, wakeAt).then(
      (wake) => {
        if (wake) return this.#runs?.acquire(handlerId);
        return undefined;
      },
      () => undefined,
    );
  }

  async sendElsewhere(
    entry: RegisteredWorkflow,
    handlerId: string,
    event: WorkflowEvent,
    step: string | null,
  ): Promise<void> {
    if (step !== null && !entry.workflow.getStep(step)) {
      throw new WorkflowError("UNKNOWN_STEP", `Unknown step "${step}"`, {
        issues: [{ path: "step", message: `Unknown step "${step}"` }],
      });
    }
    await this.#o.store.appendInbox(handlerId, { id: randomId(), event, step, receivedAt: isoTime(Date.now()) });
    // Durable now. If nobody runs the handler (idle, or its owner died), run it here; else the
    // owner hears of the item through the store's notifications.
    try {
      await this.#runs?.acquire(handlerId);
    } catch (error) {
      this.#o.logger.warn("an event was recorded but its handler could not be resumed here", { handlerId, error });
    }
  }

  async cancelElsewhere(handlerId: string): Promise<void> {
    const { store, signals } = this.#o;
    await store.appendInbox(handlerId, {
      id: randomId(),
      event: cancelRequest(),
      step: null,
      receivedAt: isoTime(Date.now()),
    });
    const limit = this.#o.cancelWaitMs ?? Math.max(10_000, 2 * this.ownership.ttlMs);
    const deadline = Date.now() + limit;
    for (;;) {
      let changed = false;
      let wake: (() => void) | null = null;
      const off = signals.once(handlerId, () => {
        changed = true;
        wake?.();
      });
      try {
        const record = await store.getHandler(handlerId);
        if (!record || record.status !== "running") return;
        // Its owner may have died meanwhile: then run it here and cancel it directly.
        const run = await this.#runs?.acquire(handlerId);
        if (run?.handler && run.state.status === "running") {
          await run.handler.cancel();
          await this.#writer?.flush();
          return;
        }
        const left = deadline - Date.now();
        if (left <= 0) {
          throw new WorkflowError(
            "STORE_UNAVAILABLE",
            `The cancellation of handler "${handlerId}" is recorded; its owner has not applied it yet`,
          );
        }
        if (!changed) {
          await new Promise<void>((resolve) => {
            const timer = setTimeout(resolve, Math.min(left, 250));
            wake = () => {
              clearTimeout(timer);
              resolve();
            };
          });
        }
      } finally {
        off();
      }
    }
  }

  /** Stops the loops and releases this process's leases; call after the last commit. */
  close(): Promise<void> {
    return this.ownership.close();
  }

  #drop(handlerId: string): void {
    this.inbox.forget(handlerId);
    this.#runs?.drop(handlerId);
  }
}
