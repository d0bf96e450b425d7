import { StepStateChanged } from "../../core/events.js";
import type { InFlightItem, PublishedEvent, RunState } from "../../core/run-state.js";
import { Histogram, STEP_BUCKETS } from "./histogram.js";

/** The counters of one workflow, shared by all its runs in this process. */
export interface WorkflowSeries {
  started: number;
  /** By terminal status. */
  readonly ended: Map<string, number>;
  published: number;
  /** By step, then by outcome. */
  readonly steps: Map<string, Map<StepOutcome, Histogram>>;
}

/**
 * How a step execution ended: `completed` (it returned), `failed` (it threw; retried or not),
 * `waiting` (it stopped in `ctx.waitForEvent` and runs again once the answer comes), `interrupted`
 * (the run ended while it was running: cancelled, timed out, or another step failed it).
 */
export type StepOutcome = "completed" | "failed" | "waiting" | "interrupted";

const STEP_STATE = StepStateChanged.name;

interface StepStateData {
  step: string;
  state: "running" | "idle";
  worker_id: string;
  output_event: string | null;
  error?: unknown;
}

/**
 * What one run in memory adds to its workflow's series, read from what its journal already carries
 * (the published events and the state after each change); nothing is called inside the engine. A
 * step's start is the engine's own `startedAt` of its in-flight item (same clock), so an execution
 * costs one clock reading, at its end, and no allocation.
 */
export class RunMetrics {
  readonly #series: WorkflowSeries;
  /** The server's clock (epoch milliseconds): the one the engine stamps `startedAt` with. */
  readonly #now: () => number;
  /** Executions that started in this memory, by worker id: the engine's in-flight record of each. */
  readonly #open = new Map<string, InFlightItem>();
  #ended = false;

  constructor(series: WorkflowSeries, now: () => number) {
    this.#series = series;
    this.#now = now;
  }

  /** Called with each change of the run, as the journal gets it. */
  changed(state: RunState, published: readonly PublishedEvent[]): void {
    const n = published.length;
    if (n > 0) {
      this.#series.published += n;
      for (let i = 0; i < n; i++) {
        const e = published[i] as PublishedEvent;
        if (e.qualifiedName === STEP_STATE) this.#step(state, e.value as unknown as StepStateData);
      }
    }
    if (!this.#ended && state.status !== "running") {
      this.#ended = true;
      const ended = this.#series.ended;
      ended.set(state.status, (ended.get(state.status) ?? 0) + 1);
      for (const [, open] of this.#open) this.#observe(open.step, "interrupted", open.startedAt);
      this.#open.clear();
    }
  }

  #step(state: RunState, data: StepStateData): void {
    if (data.state === "running") {
      const item = state.inFlight[data.worker_id];
      if (item) this.#open.set(data.worker_id, item);
      return;
    }
    const open = this.#open.get(data.worker_id);
    // Started before this run was loaded (a resume): its start time is not known here.
    if (!open) return;
    this.#open.delete(data.worker_id);
    // Only an execution that returned nothing may have stopped in waitForEvent instead.
    const outcome: StepOutcome =
      data.error !== undefined
        ? "failed"
        : data.output_event === null && waitsFor(state, data.worker_id)
          ? "waiting"
          : "completed";
    this.#observe(data.step, outcome, open.startedAt);
  }

  #observe(step: string, outcome: StepOutcome, at: number): void {
    let byOutcome = this.#series.steps.get(step);
    if (!byOutcome) {
      byOutcome = new Map();
      this.#series.steps.set(step, byOutcome);
    }
    let h = byOutcome.get(outcome);
    if (!h) {
      h = new Histogram(STEP_BUCKETS);
      byOutcome.set(outcome, h);
    }
    // A wall clock may step back: never a negative duration.
    h.observe(Math.max(0, this.#now() - at) / 1000);
  }
}

/** True when one of the run's waiters parks this item: the execution stopped in `waitForEvent`. */
function waitsFor(state: RunState, itemId: string): boolean {
  for (const id in state.waiters) {
    if (state.waiters[id]?.item.id === itemId) return true;
  }
  return false;
}
