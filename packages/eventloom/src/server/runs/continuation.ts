import { WorkflowError, type WorkflowEvent } from "../../core/index.js";
import type { HandlerRecord, Store } from "../../stores/store.js";
import type { KeyWrite } from "../idempotency/key-write.js";
import type { RegisteredWorkflow } from "../registry.js";
import type { EndSeen } from "./end-waiters.js";
import type { LiveRun } from "./live-run.js";
import type { RunLinks } from "./run-links.js";

/** A request to start a run (`run`, `run-nowait`). */
export interface StartRequest {
  start: WorkflowEvent;
  /** True for a fork: `start` is any event a step accepts, delivered instead of a start event. */
  fork?: boolean;
  /** The start event to keep with the handler: `start` when not given; null keeps none. */
  keep?: WorkflowEvent | null;
  /** A serialized context, or null. */
  context: Record<string, unknown> | null;
  /** A client-supplied handler id, or null for a new one. */
  handlerId: string | null;
  /**
   * The id a new handler gets (when `handlerId` is null), made by the caller so that it can name
   * the handler in an error thrown after its record may have been written; made here when absent.
   */
  newId?: string;
  /** Also return a promise that settles when the run has ended and its final record is durable. */
  awaitEnd?: boolean;
  /** The request's idempotency key, written with the handler's first commit. */
  key?: ((run: StartedHandler) => KeyWrite) | undefined;
  /** Its parent, schedule and run limit (a child run, a scheduled run, a limited one). */
  links?: RunLinks;
}

/** The start event a request keeps with its handler (see {@link StartRequest.keep}). */
export const startToKeep = (request: StartRequest): WorkflowEvent | null =>
  request.keep === undefined ? request.start : request.keep;

/** The handler a start made: what its idempotency key's answer is made of. */
export interface StartedHandler {
  handlerId: string;
  record(): HandlerRecord;
}

/** A started run, and (with `awaitEnd`) a promise of its durable end. */
export interface StartedRun extends StartedHandler {
  /** The run in memory; null when it waits in its run limit's queue (a row of the store only). */
  run: LiveRun | null;
  ended: Promise<EndSeen> | null;
}

/** A handler that is still running cannot be started again (409). */
export const running = (handlerId: string): WorkflowError =>
  new WorkflowError("HANDLER_RUNNING", `Handler "${handlerId}" is still running`);

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

/**
 * What a start of `handlerId` carries on from: nothing for a new handler; for an ended one of the
 * same workflow, its state (unless the request gives a context) and sequences after its last event.
 * A context of a run that was still going is resumed with this handler's sequence counter.
 */
export function continuation(
  store: Store,
  entry: RegisteredWorkflow,
  handlerId: string,
  request: { handlerId: string | null; context: Record<string, unknown> | null },
): Continuation | Promise<Continuation> {
  // A generated id is new by construction, and nothing is given to carry on: no store read, no promise.
  if (!request.handlerId && !request.context) return FRESH;
  return carriedOn(store, entry, handlerId, request);
}

interface Continuation {
  context: unknown;
  firstSequence: number;
}

const FRESH: Continuation = { context: null, firstSequence: 0 };

async function carriedOn(
  store: Store,
  entry: RegisteredWorkflow,
  handlerId: string,
  request: { handlerId: string | null; context: Record<string, unknown> | null },
): Promise<Continuation> {
  const existing = request.handlerId ? await store.getHandler(handlerId) : null;
  if (existing?.status === "running") throw running(handlerId);
  let context: unknown = request.context;
  let firstSequence = 0;
  if (existing) {
    if (existing.workflowName !== entry.name) {
      throw new WorkflowError(
        "INVALID_HANDLER_ID",
        `Handler "${handlerId}" belongs to workflow "${existing.workflowName}"`,
        { issues: [{ path: "handler_id", message: `Belongs to workflow "${existing.workflowName}"` }] },
      );
    }
    firstSequence = (await store.lastSequence(handlerId)) + 1;
    context ??= await store.loadState(handlerId);
  }
  // This handler's stream goes on from where it stands, not from the context's own counter.
  if (isObject(context) && context["status"] === "running")
    context = { ...context, nextSequence: firstSequence };
  return { context, firstSequence };
}
