import {
  EVENT_NAMES,
  isInputRequired,
  isInternal,
  isTerminal,
  type RunEvent,
  shortName,
} from "../api/types.js";

/** What an error looks like in the events that carry one. */
export interface EventError {
  name: string;
  message: string;
  stack?: string;
}

/** One execution of a step on one event: a try, or a resumption after a wait. */
export interface Execution {
  kind: "execution";
  /** Position in the run's list of executions. */
  index: number;
  step: string;
  workerId: string;
  attempt: number;
  /** The event it took (short name). */
  input: string;
  /**
   * The sequence of the stored event of that type it may have taken (the latest before it started):
   * a fork point. Null when the log holds none (the start event, events passed between steps).
   */
  inputSequence: number | null;
  /** What it produced (short name), once it went idle with an output. */
  output: string | null;
  startSequence: number;
  startTime: string;
  endSequence: number | null;
  endTime: string | null;
  /** Its end carries the run's state (a server with `keepStepStates`, the run going on): a fork point. */
  forkAfter: boolean;
  /**
   * running: at work now; done: produced its output (or nothing);
   * retried: threw and was tried again; paused: went idle to wait for an event, resumed later;
   * failed: threw and ended the run; stopped: the run ended while it was at work.
   */
  outcome: "running" | "done" | "retried" | "paused" | "failed" | "stopped";
  error: EventError | null;
}

/** An event sent into the run from outside its steps (a person's answer), from its EventReceived. */
export interface ReceivedEvent {
  kind: "received";
  /** The EventReceived's sequence and time: when the run took it in. */
  sequence: number;
  time: string;
  /** Short name of the event sent, its value, and the step it was sent to (null: any that takes it). */
  type: string;
  value: Record<string, unknown>;
  step: string | null;
}

/** A row of the step timeline. */
export type TimelineEntry = Execution | ReceivedEvent;

/** How the run ended, from its terminal event. */
export interface RunEnding {
  kind: "completed" | "failed" | "timed-out" | "cancelled";
  sequence: number;
  /** The failed step, its error and attempts (WorkflowFailedEvent). */
  step: string | null;
  error: EventError | null;
  attempts: number | null;
  /** Steps at work when the run timed out. */
  activeSteps: string[];
}

const FAILED = EVENT_NAMES.failed;
const TIMED_OUT = EVENT_NAMES.timedOut;
const CANCELLED = EVENT_NAMES.cancelled;

/**
 * A run's events folded as they arrive, in time proportional to the new events only: the lists the
 * views show (published events, step executions) and what the graph marks. Mutable; `version` counts
 * the batches, so that views can tell when to draw again.
 */
export class RunModel {
  readonly events: RunEvent[] = [];
  /** Events a step or a person published (no internal ones). */
  readonly published: RunEvent[] = [];
  readonly executions: Execution[] = [];
  /** Step executions and events sent from outside, in the order of the log. */
  readonly timeline: TimelineEntry[] = [];
  /** Steps at work now: step → worker ids. */
  readonly working = new Map<string, Set<string>>();
  /** Times each step started work on an event (retries and resumptions not counted). */
  readonly stepRuns = new Map<string, number>();
  /** By event short name: how often it happened and the sequence of the latest. */
  readonly fired = new Map<string, { count: number; lastSequence: number }>();
  ending: RunEnding | null = null;
  /** The latest input-required event, and whether a step started work after it. */
  lastInput: { event: RunEvent; movedOn: boolean } | null = null;
  version = 0;

  readonly #open = new Map<string, Execution>();
  readonly #last = new Map<string, Execution>();
  readonly #produced = new Set<string>();
  readonly #taken = new Map<string, Map<string, number>>();
  /** By short name: the sequence of the latest published event of that type. */
  readonly #lastPublished = new Map<string, number>();

  /** Appends events after the last sequence held; returns whether anything was new. */
  ingest(batch: readonly RunEvent[]): boolean {
    let last = this.events[this.events.length - 1]?.sequence ?? -1;
    let changed = false;
    for (const ev of batch) {
      if (ev.sequence <= last) continue;
      last = ev.sequence;
      changed = true;
      this.#add(ev);
    }
    if (changed) this.version++;
    return changed;
  }

  #add(ev: RunEvent): void {
    this.events.push(ev);
    if (ev.qualifiedName === EVENT_NAMES.stepState) this.#stepState(ev);
    else if (ev.qualifiedName === EVENT_NAMES.received) this.timeline.push(receivedOf(ev));
    else if (!isInternal(ev)) {
      this.published.push(ev);
      this.#lastPublished.set(shortName(ev.type), ev.sequence);
      if (isInputRequired(ev)) this.lastInput = { event: ev, movedOn: false };
      if (!this.#sawStepStates()) this.#fire(ev.type, ev.sequence);
    }
    if (isTerminal(ev)) this.#end(ev);
  }

  #sawStepStates(): boolean {
    return this.executions.length > 0;
  }

  #fire(name: string, sequence: number): void {
    const key = shortName(name);
    this.fired.set(key, { count: (this.fired.get(key)?.count ?? 0) + 1, lastSequence: sequence });
  }

  #stepState(ev: RunEvent): void {
    const v = ev.value;
    const step = String(v["step"] ?? "");
    const worker = String(v["worker_id"] ?? "");
    const input = shortName(String(v["input_event"] ?? ""));
    const active = this.working.get(step) ?? new Set<string>();
    this.working.set(step, active);
    if (v["state"] === "running") {
      active.add(worker);
      const previous = this.#last.get(worker);
      const stated = typeof v["attempt"] === "number" ? v["attempt"] : null;
      // Older servers do not say which attempt: a new start of a worker that threw counts up.
      const attempt = stated ?? (previous ? previous.attempt + (previous.error ? 1 : 0) : 1);
      if (previous && previous.outcome !== "running")
        previous.outcome = attempt > previous.attempt ? "retried" : "paused";
      const exec: Execution = {
        kind: "execution",
        index: this.executions.length,
        step,
        workerId: worker,
        attempt,
        input,
        inputSequence: this.#lastPublished.get(input) ?? null,
        output: null,
        startSequence: ev.sequence,
        startTime: ev.time,
        endSequence: null,
        endTime: null,
        forkAfter: false,
        outcome: "running",
        error: null,
      };
      this.executions.push(exec);
      this.timeline.push(exec);
      this.#open.set(worker, exec);
      this.#last.set(worker, exec);
      if (this.lastInput) this.lastInput.movedOn = true;
      if (!previous) {
        this.stepRuns.set(step, (this.stepRuns.get(step) ?? 0) + 1);
        // An event no step produced (the start event, one sent from outside) counts once per taking.
        const takers = this.#taken.get(input) ?? new Map<string, number>();
        takers.set(step, (takers.get(step) ?? 0) + 1);
        this.#taken.set(input, takers);
        if (!this.#produced.has(input)) {
          const count = Math.max(...takers.values());
          this.fired.set(input, { count, lastSequence: ev.sequence });
        }
      }
    } else {
      active.delete(worker);
      const exec = this.#open.get(worker);
      this.#open.delete(worker);
      const output = typeof v["output_event"] === "string" ? shortName(v["output_event"]) : null;
      if (exec) {
        exec.endSequence = ev.sequence;
        exec.endTime = ev.time;
        const state = v["run_state"] as { status?: unknown } | undefined;
        exec.forkAfter = typeof state === "object" && state !== null && state.status === "running";
        exec.output = output;
        exec.error = readError(v["error"]);
        // A throw fails the execution until a retry of the same worker says otherwise.
        exec.outcome = exec.error ? "failed" : "done";
      }
      if (output) {
        // Produced events are counted where they are produced, never again where they are taken.
        if (!this.#produced.has(output)) this.fired.delete(output);
        this.#produced.add(output);
        this.#fire(output, ev.sequence);
      }
    }
  }

  #end(ev: RunEvent): void {
    const v = ev.value;
    const kind =
      ev.qualifiedName === FAILED || ev.types.includes(FAILED)
        ? "failed"
        : ev.types.includes(TIMED_OUT)
          ? "timed-out"
          : ev.types.includes(CANCELLED)
            ? "cancelled"
            : "completed";
    const step = typeof v["step_name"] === "string" ? v["step_name"] : null;
    this.ending = {
      kind,
      sequence: ev.sequence,
      step,
      error: readError(v["error"]),
      attempts: typeof v["attempts"] === "number" ? v["attempts"] : null,
      activeSteps: Array.isArray(v["active_steps"]) ? v["active_steps"].map(String) : [],
    };
    for (const exec of this.#open.values()) {
      exec.outcome = "stopped";
      exec.endSequence = ev.sequence;
      exec.endTime = ev.time;
    }
    this.#open.clear();
    for (const active of this.working.values()) active.clear();
    if (kind === "failed" && step) {
      const last = this.executions.findLast((e) => e.step === step);
      if (last) {
        last.outcome = "failed";
        last.error ??= this.ending.error;
      }
    }
  }
}

function receivedOf(ev: RunEvent): ReceivedEvent {
  const v = ev.value;
  const value = v["value"];
  return {
    kind: "received",
    sequence: ev.sequence,
    time: ev.time,
    type: shortName(String(v["type"] ?? v["qualified_name"] ?? "")),
    value: typeof value === "object" && value !== null ? (value as Record<string, unknown>) : {},
    step: typeof v["step"] === "string" ? v["step"] : null,
  };
}

function readError(value: unknown): EventError | null {
  if (typeof value === "string") return { name: "Error", message: value };
  if (typeof value !== "object" || value === null) return null;
  const e = value as Record<string, unknown>;
  return {
    name: typeof e["name"] === "string" ? e["name"] : "Error",
    message: typeof e["message"] === "string" ? e["message"] : JSON.stringify(value),
    ...(typeof e["stack"] === "string" ? { stack: e["stack"] } : {}),
  };
}
