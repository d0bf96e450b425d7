import { type GraphNode, type RunEvent, shortName } from "../api/types.js";
import { RunModel } from "../run/run-model.js";

/** What a run did to its graph so far, derived from its events (internal step-state events included). */
export interface GraphActivity {
  /** Steps working right now, with how many workers each. */
  running: Map<string, number>;
  /** How many times each step started work on an event (retries and resumptions not counted). */
  stepRuns: Map<string, number>;
  /** By event short name: how often it happened (once, however many steps took it) and the latest sequence. */
  fired: Map<string, { count: number; lastSequence: number }>;
  /** The step whose failure ended the run. */
  failedStep: string | null;
  /** Steps that went idle to wait for an event that has not come yet. */
  waiting: Set<string>;
  /** The run waits for outside input: steps that take a human response wait with it. */
  awaitingInput: boolean;
}

export { shortName };

/** The name an event node is matched by: the short name of its event type. */
export const eventKey = (node: GraphNode): string => shortName(node.eventType ?? node.label);

/** The graph's view of a run model (cheap: proportional to the steps, not the events). */
export function activityOf(model: RunModel, pendingInput: boolean): GraphActivity {
  const running = new Map<string, number>();
  for (const [step, active] of model.working) if (active.size > 0) running.set(step, active.size);
  const waiting = new Set<string>();
  if (pendingInput && !model.ending) {
    // A step that asked for input ends its execution without output and runs again once answered.
    for (const [step] of model.stepRuns) {
      const last = model.executions.findLast((e) => e.step === step);
      if (last && last.outcome === "done" && last.output === null && !running.has(step)) waiting.add(step);
    }
  }
  return {
    running,
    stepRuns: new Map(model.stepRuns),
    fired: new Map(model.fired),
    failedStep: model.ending?.kind === "failed" ? model.ending.step : null,
    waiting,
    awaitingInput: pendingInput && !model.ending,
  };
}

export function graphActivity(events: readonly RunEvent[]): GraphActivity {
  const model = new RunModel();
  model.ingest(events);
  return activityOf(model, model.lastInput !== null && !model.lastInput.movedOn);
}
