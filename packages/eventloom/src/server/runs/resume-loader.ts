import { pendingChildren } from "../../core/child-runs.js";
import type { Clock, WorkflowEvent } from "../../core/index.js";
import type { RunState } from "../../core/run-state.js";
import { earliestTimer } from "../../core/run-timers.js";
import { isLeaseStore } from "../../stores/leases.js";
import type { HandlerRecord, Store } from "../../stores/store.js";
import type { Ownership } from "../cluster/ownership.js";
import type { ServerLogger } from "../logger.js";
import type { RegisteredWorkflow, WorkflowRegistry } from "../registry.js";
import { type BlockedRuns, blockRun } from "./blocked-runs.js";
import { cancelStored } from "./cancel-stored.js";
import { checkFit, unregistered } from "./fit-check.js";
import { CANCEL_EVENT } from "./inbox.js";
import { guardResume, type ResumeDecision } from "./resume-guard.js";
import { storedStartEvent } from "./start-events.js";

export interface ResumeLoaderContext {
  store: Store;
  registry: WorkflowRegistry;
  ownership: Ownership;
  logger: ServerLogger;
  clock: Clock;
  maxResumeAttempts: number;
  blocked: BlockedRuns;
  /** Whether the run is in this process's memory already (another call loaded it meanwhile). */
  isLive(handlerId: string): boolean;
  /** Throws SERVER_CLOSING once the server is closing. */
  checkOpen(): void;
}

/**
 * A stored run ready to be resumed here: its workflow, its latest state and what the guard decided.
 * A scheduled run claimed but not started yet (its process died in between) has no state: it starts
 * from its kept `start` event.
 */
export interface ResumableRun {
  entry: RegisteredWorkflow;
  state: RunState | null;
  start?: WorkflowEvent;
  record: HandlerRecord;
  decision: ResumeDecision;
}

/**
 * Reads a stored running handler and takes it for this process: `remote` when another process owns
 * it, `live` when it reached memory meanwhile, null when it is not running or cannot be resumed (the
 * code now loaded does not fit it: it is blocked; or its resume could not be counted).
 */
export async function loadResumable(
  handlerId: string,
  c: ResumeLoaderContext,
): Promise<ResumableRun | "remote" | "live" | null> {
  const { store, registry, ownership, logger } = c;
  const record = await store.getHandler(handlerId);
  if (record?.status !== "running") return null;
  // Queued behind its run limit: it runs nowhere until admitted (run-limits.ts); events wait in its inbox.
  if (record.queued) return "remote";
  // Found blocked here before, and still recorded so: this process's code has not changed since.
  if (record.blocked && c.blocked.has(handlerId)) return null;
  const entry = registry.get(record.workflowName);
  // On a shared store the state is read once the lease is ours (what the previous owner committed
  // last): a handler another process runs costs no state read here.
  let state = entry && !ownership.shared ? await store.loadState(handlerId) : null;
  if (entry && !ownership.shared && !state && !record.scheduleId) return null;
  c.checkOpen();
  if (c.isLive(handlerId)) return "live";
  const owned = ownership.acquire(handlerId);
  if (owned !== true && !(await owned)) return "remote";
  if (entry && ownership.shared) {
    state = await store.loadState(handlerId);
    if (state ? state.status !== "running" : !record.scheduleId) {
      await ownership.release(handlerId);
      return null;
    }
    if (c.isLive(handlerId)) return "live";
  }
  if (!entry || (!state && !record.scheduleId)) {
    await blockRun(record, unregistered(record.workflowName), c);
    return null;
  }
  let current = record;
  try {
    if (ownership.shared) {
      current = (await store.getHandler(handlerId)) ?? record;
      // A cancellation another process sent while it was not running here applies before any step.
      const inbox = await store.readInbox(handlerId);
      if (inbox.some((item) => item.event.qualifiedName === CANCEL_EVENT)) {
        const ids = inbox.map((item) => item.id);
        await cancelStored(store, current, c.clock.now(), ownership, undefined, ids);
        await ownership.release(handlerId);
        return null;
      }
    }
    if (!state) return await pendingStart(current, entry, c);
    const misfit = checkFit(state, entry);
    if (misfit) {
      await blockRun(current, misfit, c);
      return null;
    }
    c.blocked.delete(handlerId);
    const decision = await guardResume(current, state, {
      store,
      ownership,
      logger,
      maxResumeAttempts: c.maxResumeAttempts,
      now: () => new Date(c.clock.now()).toISOString(),
    });
    return { entry, state, record: current, decision };
  } catch (error) {
    logger.error("could not count a resume: the handler is not resumed now", { handlerId, error });
    return null;
  }
}

export interface ResumeAllContext {
  store: Store;
  registry: WorkflowRegistry;
  logger: ServerLogger;
  blocked: BlockedRuns;
  closing(): boolean;
  isLive(handlerId: string): boolean;
  /** Whether idle runs stay released (woken by their timers) rather than loaded. */
  releases: boolean;
  resume(handlerId: string): Promise<unknown>;
  scheduleWake(handlerId: string, at: number | null): void;
  /**
   * On a store shared by several processes, the running handlers nobody holds are listed in one
   * query (those a live peer runs and waiting ones with nothing due are left out): all there is to resume.
   */
  ownership: Ownership;
  clock: Clock;
}

/** On a shared lease store: its orphaned running handlers, listed in one query (at most 1000). */
export const orphansOf = (store: Store, ownership: Ownership, clock: Clock) =>
  ownership.shared && isLeaseStore(store) ? () => store.listExpiredRunning(1000, clock.now()) : undefined;

/**
 * After a start: resumes every stored running handler. Idle ones that fit the code now loaded stay in
 * the store until an event or one of their timers wakes them; those that do not fit (their workflow
 * is not registered, a step or a schema changed) are blocked by the resume, which checks them.
 */
export async function resumeStored(c: ResumeAllContext): Promise<void> {
  const orphans = orphansOf(c.store, c.ownership, c.clock);
  if (orphans) {
    for (const handlerId of await orphans()) {
      if (c.closing()) return;
      if (!c.isLive(handlerId)) await c.resume(handlerId);
    }
    return;
  }
  for (const record of await c.store.listRunning()) {
    if (c.closing()) return;
    if (c.isLive(record.handlerId) || record.queued) continue;
    const entry = c.registry.get(record.workflowName);
    const state = entry ? await c.store.loadState(record.handlerId) : null;
    if (entry && !state && !record.scheduleId) continue;
    const fits = entry && state && !record.blocked && checkFit(state, entry) === null;
    // A parent waiting for children is loaded: it looks at them (one may have ended while no process ran).
    if (fits && state.idle && c.releases && pendingChildren(state).length === 0) {
      c.scheduleWake(record.handlerId, earliestTimer(state));
    } else await c.resume(record.handlerId);
  }
}

/** A scheduled run claimed with no state: started here from its kept start event, once. */
async function pendingStart(
  record: HandlerRecord,
  entry: RegisteredWorkflow,
  c: ResumeLoaderContext,
): Promise<ResumableRun | null> {
  const start = record.status === "running" ? await storedStartEvent(c.store, record.handlerId) : null;
  if (!start) {
    c.logger.error("a scheduled run has no start event: it is not started", { handlerId: record.handlerId });
    await c.ownership.release(record.handlerId);
    return null;
  }
  return { entry, state: null, start, record, decision: { resume: true, attempts: 0 } };
}

/**
 * Resuming threw before any of the run's code ran (a misfit the checks did not see): the run is
 * blocked, written with the record read before the resume was counted, so that restarts on code that
 * does not fit never bring it to the crash-loop limit.
 */
export async function blockResume(
  handlerId: string,
  error: unknown,
  loaded: ResumableRun,
  c: Pick<ResumeLoaderContext, "store" | "ownership" | "logger" | "blocked" | "clock">,
): Promise<void> {
  c.logger.error("could not resume a handler", { handlerId, error });
  const detail = error instanceof Error ? error.message : String(error);
  await blockRun(loaded.record, { code: "WORKFLOW_CHANGED", detail }, c, true);
}
