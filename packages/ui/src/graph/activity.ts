import { EVENT_NAMES, type GraphNode, isInternal, isTerminal, type RunEvent } from "../api/types.js";

/** What a run did to its graph so far, derived from its events (internal step-state events included). */
export interface GraphActivity {
  /** Steps working right now, with how many workers each. */
  running: Map<string, number>;
  /** How many times each step started work. */
  stepRuns: Map<string, number>;
  /** By event short name: how often it fired and the sequence of the latest firing. */
  fired: Map<string, { count: number; lastSequence: number }>;
}

export const shortName = (name: string): string => name.slice(name.lastIndexOf(".") + 1);

/** The name an event node is matched by: the short name of its event type. */
export const eventKey = (node: GraphNode): string => shortName(node.eventType ?? node.label);

export function graphActivity(events: readonly RunEvent[]): GraphActivity {
  const workers = new Map<string, Set<string>>();
  const stepRuns = new Map<string, number>();
  const fired = new Map<string, { count: number; lastSequence: number }>();
  const fire = (name: unknown, sequence: number) => {
    if (typeof name !== "string" || name === "") return;
    const key = shortName(name);
    fired.set(key, { count: (fired.get(key)?.count ?? 0) + 1, lastSequence: sequence });
  };

  // Step-state changes name every event a step took or produced; without them, use what was published.
  const fromSteps = events.some((ev) => ev.qualifiedName === EVENT_NAMES.stepState);
  for (const ev of events) {
    if (ev.qualifiedName === EVENT_NAMES.stepState) {
      const step = String(ev.value["step"] ?? "");
      const worker = String(ev.value["worker_id"] ?? "");
      const active = workers.get(step) ?? new Set<string>();
      if (ev.value["state"] === "running") {
        active.add(worker);
        stepRuns.set(step, (stepRuns.get(step) ?? 0) + 1);
        fire(ev.value["input_event"], ev.sequence);
      } else {
        active.delete(worker);
        fire(ev.value["output_event"], ev.sequence);
      }
      workers.set(step, active);
    } else if (!fromSteps && !isInternal(ev)) {
      fire(ev.qualifiedName, ev.sequence);
    }
  }

  // Once the run has ended (a cancelled step may never report going idle), nothing is at work.
  const ended = events.some(isTerminal);
  const running = new Map<string, number>();
  for (const [step, active] of workers) if (active.size > 0 && !ended) running.set(step, active.size);
  return { running, stepRuns, fired };
}
