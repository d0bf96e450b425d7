import { pendingChildren } from "../../core/child-runs.js";
import { randomId } from "../../core/clock.js";
import {
  type EventDefinition,
  type RunState,
  StartEvent,
  StepStateChanged,
  StopEvent,
  WorkflowError,
  type WorkflowEvent,
} from "../../core/index.js";
import { decodeStartEvent, parseForkRequest } from "../../protocol/index.js";
import type { Store } from "../../stores/store.js";
import type { RegisteredWorkflow } from "../registry.js";
import { storedStartEvent } from "../runs/start-events.js";
import type { Answer } from "./answer.js";
import { requireHandler } from "./handler-routes.js";
import type { RouteHandlers } from "./route-handler.js";

/**
 * POST /handlers/{handler_id}/fork: a new handler of the same workflow that starts again from the
 * handler's kept start event (or the one given), or, with `from_sequence`, a fork that begins by
 * delivering one stored event of the run to the steps that accept it, with the workflow's initial
 * state. Answers as run-nowait does, once the new handler's start is durable.
 */
export const forkHandlers: RouteHandlers<"forkHandler"> = {
  forkHandler: async (ctx, request, p): Promise<Answer> => {
    const body = parseForkRequest(await request.readJson(ctx.bodyLimitBytes));
    const runtime = await ctx.runtime();
    const from = await requireHandler(runtime, p["handler_id"] as string);
    const entry = ctx.registry.require(from.workflowName);
    const kept = await storedStartEvent(runtime.store, from.handlerId);
    const fork = body.from_sequence !== undefined;
    let start: WorkflowEvent;
    let context: Record<string, unknown> | null = null;
    if (body.from_sequence !== undefined) {
      const point = await forkPoint(runtime.store, entry, from.handlerId, body.from_sequence);
      if ("state" in point) {
        context = boundaryState(point.state, ctx.clock.now(), entry.workflow.timeout);
        start = placeholderStart;
      } else start = point.event;
    } else if (body.start_event != null) {
      start = decodeStartEvent(body.start_event, entry.startEvent, entry.resolve);
    } else if (kept) {
      // Checked again: the workflow's start event may have changed since.
      start = decodeStartEvent(
        { type: kept.qualifiedName, value: kept.data },
        entry.startEvent,
        entry.resolve,
      );
    } else {
      throw new WorkflowError(
        "START_EVENT_NOT_KEPT",
        `The start event of handler "${from.handlerId}" was not kept (it started before this server kept them): give start_event`,
      );
    }
    // A fork's record shows the start event of the run it came from: a re-run of it starts from there.
    const keep = fork ? kept : start;
    const started = await runtime.manager.start(entry, { start, fork, keep, context, handlerId: null });
    await runtime.writer.flush(started.handlerId);
    return { kind: "record", of: "started", record: started.record() };
  },
};

/**
 * Where a fork begins: the stored event at `sequence` when a step of the workflow accepts it, or,
 * when it is a step's end that carries the run's state (`keepStepStates`), that state.
 */
async function forkPoint(
  store: Store,
  entry: RegisteredWorkflow,
  handlerId: string,
  sequence: number,
): Promise<{ event: WorkflowEvent } | { state: Record<string, unknown> }> {
  const [stored] = await store.readEvents(handlerId, sequence - 1, 1);
  const invalid = (why: string) =>
    new WorkflowError(
      "INVALID_FORK_POINT",
      `Cannot fork handler "${handlerId}" from sequence ${sequence}: ${why}`,
      {
        issues: [{ path: "from_sequence", message: why }],
      },
    );
  if (!stored || stored.sequence !== sequence) throw invalid("the run has no event there");
  const state = stored.value["run_state"];
  if (stored.qualifiedName === StepStateChanged.name && isObject(state)) {
    if (state["status"] !== "running") throw invalid("the run had ended at that step's end");
    if (pendingChildren(state as unknown as RunState).length > 0)
      throw invalid("child runs were running then (a fork does not start them again)");
    return { state };
  }
  if (stored.internal) throw invalid("it is an internal event");
  const definition: EventDefinition | undefined = entry.workflow.definitionOf(stored.qualifiedName);
  if (!definition || definition.extends(StopEvent)) throw invalid(`no step accepts ${stored.type}`);
  if (entry.workflow.stepsAccepting(stored.qualifiedName).length === 0)
    throw invalid(`no step accepts ${stored.type}`);
  // Checked against the event's schema as loaded now.
  return { event: definition.create(stored.value) };
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

/** Not delivered: a run resumed from a running state dispatches no start event. */
const placeholderStart: WorkflowEvent = { type: "StartEvent", qualifiedName: StartEvent.name, data: {} };

/**
 * The state a fork from a step's end begins with: the run's queues, work in flight (queued again),
 * retries, waiters, timers and user state as they were, as a new run (its own id, start time,
 * deadline from now, sequences from 0, no trace of the original's).
 */
function boundaryState(
  state: Record<string, unknown>,
  now: number,
  timeout: number | null,
): Record<string, unknown> {
  const { trace: _trace, ...rest } = state;
  return {
    ...rest,
    runId: randomId(),
    startedAt: now,
    deadline: timeout === null ? null : now + timeout * 1000,
    nextSequence: 0,
  };
}
