import { describe, expect, it } from "vitest";
import type { RunEvent } from "../src/api/types.js";
import { graphActivity } from "../src/graph/activity.js";

let sequence = 0;
const event = (
  qualifiedName: string,
  value: Record<string, unknown> = {},
  types: string[] = [],
): RunEvent => ({
  sequence: sequence++,
  type: qualifiedName.slice(qualifiedName.lastIndexOf(".") + 1),
  qualifiedName,
  types: ["workflows.events.Event", ...types, qualifiedName],
  value,
  time: "2026-01-01T00:00:00.000Z",
  timeSource: "server",
});
const stepState = (
  step: string,
  state: "running" | "idle",
  worker: string,
  input: string,
  output: string | null,
) =>
  event("workflows.events.StepStateChanged", {
    step,
    state,
    worker_id: worker,
    input_event: input,
    output_event: output,
  });
const stop = () => event("workflows.events.StopEvent", { result: 1 });

describe("graphActivity", () => {
  it("marks a step running while any of its workers is busy", () => {
    const events = [
      stepState("greet", "running", "w1", "workflows.events.StartEvent", null),
      stepState("greet", "running", "w2", "workflows.events.StartEvent", null),
      stepState("greet", "idle", "w1", "workflows.events.StartEvent", "workflows.events.StopEvent"),
    ];
    const activity = graphActivity(events);
    expect(activity.running.get("greet")).toBe(1);
    expect(activity.stepRuns.get("greet")).toBe(2);
    expect(activity.fired.get("StartEvent")?.count).toBe(2);
    expect(activity.fired.get("StopEvent")).toEqual({ count: 1, lastSequence: events[2]!.sequence });
  });

  it("shows nothing at work once the run has ended, even without a last step-state change", () => {
    // Built in stream order: sequences only grow.
    const started = stepState("wait", "running", "w1", "StartEvent", null);
    const cancelled = event("workflows.events.WorkflowCancelledEvent", {}, ["workflows.events.StopEvent"]);
    const activity = graphActivity([started, cancelled]);
    expect(activity.running.size).toBe(0);
    expect(activity.stepRuns.get("wait")).toBe(1);
  });

  it("counts an event passed from one step to another once, not once produced and once taken", () => {
    const activity = graphActivity([
      stepState("parse", "running", "i0", "StartEvent", null),
      stepState("parse", "idle", "i0", "StartEvent", "Parsed"),
      stepState("count", "running", "i1", "Parsed", null),
      stepState("count", "idle", "i1", "Parsed", "StopEvent"),
      stop(),
    ]);
    expect(activity.fired.get("StartEvent")?.count).toBe(1);
    expect(activity.fired.get("Parsed")?.count).toBe(1);
    expect(activity.fired.get("StopEvent")?.count).toBe(1);
  });

  it("counts a retried step once, and marks the step whose failure ended the run", () => {
    const failed = () => stepState("fetch", "idle", "i0", "StartEvent", null);
    const events = [
      stepState("fetch", "running", "i0", "StartEvent", null),
      failed(),
      stepState("fetch", "running", "i0", "StartEvent", null),
      failed(),
      event(
        "workflows.events.WorkflowFailedEvent",
        { step_name: "fetch", error: { name: "Error", message: "503" }, attempts: 2 },
        ["workflows.events.StopEvent"],
      ),
    ];
    const activity = graphActivity(events);
    expect(activity.stepRuns.get("fetch")).toBe(1);
    expect(activity.fired.get("StartEvent")?.count).toBe(1);
    expect(activity.failedStep).toBe("fetch");
  });

  it("counts published events when the stream has no step-state changes", () => {
    const activity = graphActivity([event("RequestEvent", { prompt: "?" }), stop()]);
    expect(activity.fired.get("RequestEvent")?.count).toBe(1);
    expect(activity.fired.get("StopEvent")?.count).toBe(1);
  });
});
