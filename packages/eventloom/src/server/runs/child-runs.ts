import { ChildWorkflowEnded, pendingChildren } from "../../core/child-runs.js";
import { type ChildCall, type RunState, WorkflowError } from "../../core/index.js";
import type { HandlerRecord, Store } from "../../stores/store.js";
import type { ServerLogger } from "../logger.js";
import type { RegisteredWorkflow, WorkflowRegistry } from "../registry.js";
import type { StartedRun, StartRequest } from "./continuation.js";
import type { LiveRun } from "./live-run.js";

/** What the children of a run need from the run manager. */
export interface ChildRunsContext {
  store: Store;
  registry: WorkflowRegistry;
  logger: ServerLogger;
  start(entry: RegisteredWorkflow, request: StartRequest): Promise<StartedRun>;
  send(handlerId: string, event: ReturnType<typeof ChildWorkflowEnded.create>): Promise<void>;
  /**
   * The runs of this process: in memory, or loaded (a run loaded while it waits for children takes
   * its inbox in, on any store).
   */
  runs: { live(handlerId: string): LiveRun | undefined; acquire(handlerId: string): Promise<unknown> };
  /** Takes the items of the run's inbox into it. */
  drainInbox(run: LiveRun): Promise<void>;
  /** Resolves once the handler's changes so far are durable. */
  durable(handlerId: string): Promise<void>;
  /** Writes the run's record again (its idleness to the store changed). */
  rewrite(run: LiveRun): void;
  cancel(handlerId: string): Promise<unknown>;
}

/** The children of this process's runs: started from their parents' calls, their ends sent back. */
export class ChildRuns {
  readonly #c: ChildRunsContext;

  constructor(context: ChildRunsContext) {
    this.#c = context;
  }

  /** After each change of a run. */
  changed(run: LiveRun): void {
    if (run.engine?.state.children) startNewChildren(run, this.#c);
  }

  /**
   * A run's end is durable, and with it the news of it in its parent's inbox (child-end.ts): the
   * parent takes it in now; should that fail, it stays there for the parent's next load. A
   * cancelled run cancels its children.
   */
  ended(run: LiveRun): void {
    const { parentHandlerId } = run.links;
    if (parentHandlerId) {
      void takeNews(parentHandlerId, this.#c).catch((error: unknown) =>
        this.#c.logger.warn("a parent run did not take in its child's end now; it will when it is loaded", {
          parentHandlerId,
          error,
        }),
      );
    }
    cancelChildren(run.state, this.#c);
  }
}

/**
 * A handler's inbox holds news from this process (a child's end): its run takes it in, here (in
 * memory, or loaded now), or in the process that holds it (the load here finds its lease taken),
 * which hears of the commit from the store.
 */
async function takeNews(handlerId: string, c: ChildRunsContext): Promise<void> {
  const run = c.runs.live(handlerId);
  if (run) return c.drainInbox(run);
  await c.runs.acquire(handlerId);
}

/**
 * After a change of `run`: each child call it has not looked at yet (in this process) is made sure
 * of: started when its handler does not exist, its end sent to the parent when it has ended
 * already (the parent went down between the two). A run loaded again looks at every call again.
 */
export function startNewChildren(run: LiveRun, c: ChildRunsContext): void {
  const calls = run.state.children;
  if (!calls) return;
  for (const call of Object.values(calls)) {
    if (call.ended || run.childrenSeen.has(call.id)) continue;
    run.childrenSeen.add(call.id);
    void ensureChild(run.handlerId, call, c)
      .then(() => {
        // The child is durable: the parent may now be idle to the store (see LiveRun.snapshot). A
        // parent that is not idle writes its record again at its next change anyway.
        run.childrenSure.add(call.id);
        if (c.runs.live(run.handlerId) === run && run.state.status === "running" && run.state.idle)
          c.rewrite(run);
      })
      .catch((error: unknown) =>
        c.logger.error("could not start a child run", {
          handlerId: run.handlerId,
          child: call.handlerId,
          error,
        }),
      );
  }
}

async function ensureChild(parentId: string, call: ChildCall, c: ChildRunsContext): Promise<void> {
  const record = await c.store.getHandler(call.handlerId);
  if (record) {
    if (record.status !== "running") await notifyParent(parentId, record, c);
    return;
  }
  const entry = childEntry(c.registry, call.workflow);
  if (!entry) {
    await sendEnd(
      parentId,
      call.handlerId,
      "failed",
      null,
      `Workflow "${call.workflow}" is not registered`,
      c,
    );
    return;
  }
  try {
    const started = await c.start(entry, {
      start: call.start,
      context: null,
      handlerId: call.handlerId,
      links: { parentHandlerId: parentId, scheduleId: null, limitKey: null },
    });
    await c.durable(started.handlerId);
  } catch (error) {
    // Another process (or an earlier life of this parent) started it: it will tell the parent.
    if (error instanceof WorkflowError && error.code === "HANDLER_RUNNING") return;
    throw error;
  }
}

/** A registered workflow by its name on the server, or by the name the workflow gave itself. */
function childEntry(registry: WorkflowRegistry, name: string): RegisteredWorkflow | undefined {
  const named = registry.get(name);
  if (named) return named;
  for (const n of registry.names) {
    const entry = registry.get(n);
    if (entry?.workflow.name === name) return entry;
  }
  return undefined;
}

/** A child run ended (its final record is durable): its parent hears of it. */
export async function notifyParent(
  parentId: string,
  child: HandlerRecord,
  c: ChildRunsContext,
): Promise<void> {
  const status = child.status === "running" ? "failed" : child.status;
  await sendEnd(parentId, child.handlerId, status, child.result ?? null, child.error, c);
}

async function sendEnd(
  parentId: string,
  handlerId: string,
  status: "completed" | "failed" | "cancelled",
  result: unknown,
  error: string | null,
  c: ChildRunsContext,
): Promise<void> {
  try {
    await c.send(parentId, ChildWorkflowEnded.create({ handler_id: handlerId, status, result, error }));
  } catch (e) {
    // A parent that ended (or was deleted) no longer waits for anything.
    if (e instanceof WorkflowError && (e.code === "HANDLER_ENDED" || e.code === "HANDLER_NOT_FOUND")) return;
    throw e;
  }
}

/** A cancelled parent cancels the children it started that are still running. */
export function cancelChildren(state: RunState, c: ChildRunsContext): void {
  if (state.status !== "cancelled") return;
  for (const call of pendingChildren(state)) {
    void c.cancel(call.handlerId).catch(() => undefined);
  }
}
