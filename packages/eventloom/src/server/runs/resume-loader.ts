import type { Clock } from "../../core/index.js";
import type { RunState } from "../../core/run-state.js";
import { earliestTimer } from "../../core/run-timers.js";
import type { HandlerRecord, Store } from "../../stores/store.js";
import type { Ownership } from "../cluster/ownership.js";
import type { ServerLogger } from "../logger.js";
import type { RegisteredWorkflow, WorkflowRegistry } from "../registry.js";
import type { BlockedRuns } from "./blocked-runs.js";
import { guardResume, type ResumeDecision } from "./resume-guard.js";

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

/** A stored run ready to be resumed here: its workflow, its latest state and what the guard decided. */
export interface ResumableRun {
  entry: RegisteredWorkflow;
  state: RunState;
  record: HandlerRecord;
  decision: ResumeDecision;
}

/**
 * Reads a stored running handler and takes it for this process: `remote` when another process owns
 * it, `live` when it reached memory meanwhile, null when it is not running (or cannot be resumed: its
 * workflow is not registered, or its resume could not be counted).
 */
export async function loadResumable(
  handlerId: string,
  c: ResumeLoaderContext,
): Promise<ResumableRun | "remote" | "live" | null> {
  const { store, registry, ownership, logger } = c;
  const record = await store.getHandler(handlerId);
  if (record?.status !== "running") return null;
  const entry = registry.get(record.workflowName);
  if (!entry) {
    c.blocked.setUnregistered(handlerId, record.workflowName);
    return null;
  }
  const state = await store.loadState(handlerId);
  if (!state) return null;
  c.checkOpen();
  if (c.isLive(handlerId)) return "live";
  const owned = ownership.acquire(handlerId);
  if (owned !== true && !(await owned)) return "remote";
  if (ownership.shared) {
    // Whatever the previous owner committed last is what this process resumes from.
    const latest = await store.loadState(handlerId);
    if (latest?.status !== "running") {
      await ownership.release(handlerId);
      return null;
    }
    Object.assign(state, latest);
    if (c.isLive(handlerId)) return "live";
  }
  let current = record;
  try {
    if (ownership.shared) current = (await store.getHandler(handlerId)) ?? record;
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
}

/**
 * After a start: resumes every stored running handler of a registered workflow. Idle ones stay in the
 * store until an event or one of their timers wakes them; those of unregistered workflows are blocked.
 */
export async function resumeStored(c: ResumeAllContext): Promise<void> {
  for (const record of await c.store.listRunning()) {
    if (c.closing()) return;
    if (!c.registry.get(record.workflowName)) {
      c.blocked.setUnregistered(record.handlerId, record.workflowName);
      c.logger.warn("running handler of an unregistered workflow left as is", {
        handlerId: record.handlerId,
        workflowName: record.workflowName,
      });
      continue;
    }
    if (c.isLive(record.handlerId)) continue;
    const state = await c.store.loadState(record.handlerId);
    if (!state) continue;
    if (state.idle && c.releases) c.scheduleWake(record.handlerId, earliestTimer(state));
    else await c.resume(record.handlerId);
  }
}

/** Resuming threw before any of the run's code ran: the run is blocked and its counted resume undone. */
export async function blockResume(
  handlerId: string,
  error: unknown,
  loaded: ResumableRun,
  c: Pick<ResumeLoaderContext, "store" | "ownership" | "logger" | "blocked">,
): Promise<void> {
  c.blocked.set(handlerId, error instanceof Error ? error.message : String(error));
  c.logger.error("could not resume a handler", { handlerId, error });
  // A blocked run must not reach the crash-loop limit by restarts.
  if (loaded.decision.resume) {
    const undo = { handlers: [loaded.record], fence: c.ownership.fences([handlerId]) };
    await c.store.commit(undo).catch(() => undefined);
  }
}
