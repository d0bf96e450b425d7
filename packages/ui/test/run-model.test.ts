import { describe, expect, it } from "vitest";
import type { RunEvent } from "../src/api/types.js";
import { RunModel } from "../src/run/run-model.js";

let sequence = 0;
let clock = Date.parse("2026-01-01T00:00:00.000Z");
const event = (
  qualifiedName: string,
  value: Record<string, unknown> = {},
  types: string[] = [],
): RunEvent => {
  clock += 10;
  return {
    sequence: sequence++,
    type: qualifiedName.slice(qualifiedName.lastIndexOf(".") + 1),
    qualifiedName,
    types: ["workflows.events.Event", ...types, qualifiedName],
    value,
    time: new Date(clock).toISOString(),
    timeSource: "server",
  };
};
const state = (value: Record<string, unknown>) => event("workflows.events.StepStateChanged", value);
const STOP = "workflows.events.StopEvent";

describe("RunModel", () => {
  it("lists every attempt of a retried step with its error, and the last as the failure", () => {
    const model = new RunModel();
    const base = { step: "fetch", worker_id: "i0", input_event: "StartEvent", output_event: null };
    model.ingest([
      state({ ...base, state: "running", attempt: 1 }),
      state({ ...base, state: "idle", attempt: 1, error: { name: "Error", message: "503 (try 1)" } }),
      state({ ...base, state: "running", attempt: 2 }),
      state({ ...base, state: "idle", attempt: 2, error: { name: "Error", message: "503 (try 2)" } }),
      event(
        "workflows.events.WorkflowFailedEvent",
        { step_name: "fetch", error: { name: "Error", message: "503 (try 2)" }, attempts: 2 },
        [STOP],
      ),
    ]);
    expect(model.executions.map((e) => [e.attempt, e.outcome, e.error?.message])).toEqual([
      [1, "retried", "503 (try 1)"],
      [2, "failed", "503 (try 2)"],
    ]);
    expect(model.executions[0]!.endTime).not.toBeNull();
    expect(model.ending).toMatchObject({ kind: "failed", step: "fetch", attempts: 2 });
  });

  it("infers attempts from a worker that threw when the events do not say", () => {
    const model = new RunModel();
    const base = { step: "fetch", worker_id: "i0", input_event: "StartEvent", output_event: null };
    model.ingest([
      state({ ...base, state: "running" }),
      state({ ...base, state: "idle", error: "boom" }),
      state({ ...base, state: "running" }),
    ]);
    expect(model.executions.map((e) => e.attempt)).toEqual([1, 2]);
    expect(model.executions[1]!.outcome).toBe("running");
  });

  it("marks an execution that went idle to wait as paused once it resumes", () => {
    const model = new RunModel();
    const base = { step: "ask", worker_id: "i0", input_event: "StartEvent", output_event: null };
    model.ingest([
      state({ ...base, state: "running", attempt: 1 }),
      event("Question", {}, ["workflows.events.InputRequiredEvent"]),
      state({ ...base, state: "idle", attempt: 1 }),
    ]);
    expect(model.lastInput?.movedOn).toBe(false);
    model.ingest([state({ ...base, state: "running", attempt: 1 })]);
    expect(model.executions.map((e) => e.outcome)).toEqual(["paused", "running"]);
    expect(model.lastInput?.movedOn).toBe(true);
  });

  it("tells a timed-out and a cancelled end apart from a completed one", () => {
    const timedOut = new RunModel();
    timedOut.ingest([
      event("workflows.events.WorkflowTimedOutEvent", { timeout: 1, active_steps: ["slow"] }, [STOP]),
    ]);
    expect(timedOut.ending).toMatchObject({ kind: "timed-out", activeSteps: ["slow"] });
    const cancelled = new RunModel();
    cancelled.ingest([event("workflows.events.WorkflowCancelledEvent", {}, [STOP])]);
    expect(cancelled.ending?.kind).toBe("cancelled");
    const done = new RunModel();
    done.ingest([event(STOP, { result: 1 })]);
    expect(done.ending?.kind).toBe("completed");
  });

  it("ignores events it already holds", () => {
    const model = new RunModel();
    const a = event("A");
    const b = event("B");
    expect(model.ingest([a, b])).toBe(true);
    expect(model.ingest([a, b])).toBe(false);
    expect(model.published).toHaveLength(2);
  });
});
