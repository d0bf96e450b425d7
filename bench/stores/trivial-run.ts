// The batch the store commit benchmarks write: trivial runs merged the way the server's group commit does.
import type { PublishedEvent, RunState } from "../../packages/eventloom/src/core/index.js";
import {
  type CommitBatch,
  eventRows,
  type HandlerRecord,
  stateJson,
} from "../../packages/eventloom/src/stores/store.js";

/** Rows one trivial run writes. */
export const ROWS_PER_RUN = 5;

/** The writes of one trivial run (start → stop): 1 handler, 3 published events, 1 run state. */
export function trivialRun(id: string, now: number): CommitBatch {
  const at = new Date(now).toISOString();
  const handler: HandlerRecord = {
    handlerId: id,
    workflowName: "greet",
    runId: `run-${id}`,
    status: "completed",
    result: "Hello, World!",
    error: null,
    startedAt: at,
    updatedAt: at,
    completedAt: at,
  };
  const event = (sequence: number, type: string, value: Record<string, unknown>): PublishedEvent => ({
    sequence,
    type,
    qualifiedName: `workflows.events.${type}`,
    types: ["workflows.events.Event", `workflows.events.${type}`],
    value,
    internal: type === "StepStateChanged",
    timestamp: at,
  });
  const state: RunState = {
    version: 1,
    workflowName: "greet",
    runId: `run-${id}`,
    status: "completed",
    startedAt: now,
    deadline: now + 45_000,
    nextSequence: 3,
    nextItemId: 2,
    queues: { greet: [] },
    inFlight: {},
    retries: {},
    collected: {},
    waiters: {},
    unclaimed: [],
    store: { greeted: "World" },
    idle: false,
    outcome: {
      status: "completed",
      result: "Hello, World!",
      error: null,
      stopEvent: {
        type: "StopEvent",
        qualifiedName: "workflows.events.StopEvent",
        data: { result: "Hello, World!" },
      },
      failedStep: null,
    },
  };
  return {
    handlers: [handler],
    events: [
      {
        handlerId: id,
        events: eventRows([
          event(0, "StepStateChanged", {
            step: "greet",
            state: "running",
            worker_id: 0,
            input_event: "StartEvent",
          }),
          event(1, "StepStateChanged", {
            step: "greet",
            state: "idle",
            worker_id: 0,
            output_event: "StopEvent",
          }),
          event(2, "StopEvent", { result: "Hello, World!" }),
        ]),
      },
    ],
    states: [{ handlerId: id, json: stateJson(state) }],
  };
}

/** Merges runs into one group-commit batch, as the server does. */
export function merge(batches: CommitBatch[]): CommitBatch {
  return {
    handlers: batches.flatMap((b) => b.handlers ?? []),
    events: batches.flatMap((b) => b.events ?? []),
    states: batches.flatMap((b) => b.states ?? []),
  };
}
