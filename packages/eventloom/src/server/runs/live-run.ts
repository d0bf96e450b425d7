import { type Clock, isoTime } from "../../core/clock.js";
import type { RunJournal, StepFailure } from "../../core/engine-types.js";
import {
  type PublishedEvent,
  type QueuedItem,
  type RunState,
  StepStateChanged,
  type WorkflowHandler,
} from "../../core/index.js";
import type { RunEngine } from "../../core/run-engine.js";
import { earliestTimer } from "../../core/run-timers.js";
import { PublishedJsonWriter } from "../../protocol/index.js";
import type { EventRow, HandlerRecord } from "../../stores/store.js";
import { type ServerLogger, silentLogger } from "../logger.js";
import type { RunMetrics } from "../metrics/index.js";
import type { RegisteredWorkflow } from "../registry.js";
import type { RunTracer } from "../tracing/index.js";
import type { CommitSource } from "./commit-writer.js";
import { recordError } from "./record-error.js";
import { NO_LINKS, type RunLinks } from "./run-links.js";

/** One run held in memory: the engine's journal and the commit writer's source for its handler. */
export class LiveRun implements RunJournal, CommitSource {
  readonly handlerId: string;
  readonly entry: RegisteredWorkflow;
  readonly #clock: Clock;
  readonly #onChange: (run: LiveRun, published: readonly EventRow[]) => void;
  readonly #metrics: RunMetrics | null;
  readonly #logger: ServerLogger;
  readonly #trace: RunTracer | null;
  readonly #keepStepStates: boolean;
  /**
   * Set only when the run is traced (the engine calls a step directly otherwise), and always to the
   * same function, never to a closure made for the run: with a closure of its own in this field, each
   * run's objects outlived two scavenges and were promoted to the old generation (with the Maps of
   * runs, 6 KB a request and 14–18 µs more of scavenge pauses; bench/README.md, "Tracing's garbage,
   * found").
   */
  readonly aroundStep?: (this: LiveRun, item: QueuedItem, call: () => unknown) => unknown;
  engine: RunEngine | null = null;
  handler: WorkflowHandler | null = null;
  /** Pending idle-release timer. */
  idleTimer: unknown = null;
  #inboxTaken: Set<string> | null = null;
  #childrenSeen: Set<string> | null = null;
  #childrenSure: Set<string> | null = null;
  #completedAt: string | null = null;
  /** Resumes since a step last finished (see resume-guard.ts); written with every record. */
  resumeAttempts = 0;
  /** The workflow version the run started on (its stored record's, for a resumed run). */
  workflowVersion: string | null = null;
  /** Its parent, schedule and run limit: set at its start, kept in every record it writes. */
  links: RunLinks = NO_LINKS;

  constructor(
    handlerId: string,
    entry: RegisteredWorkflow,
    clock: Clock,
    onChange: (run: LiveRun, published: readonly EventRow[]) => void,
    metrics: RunMetrics | null = null,
    logger: ServerLogger = silentLogger,
    trace: RunTracer | null = null,
    keepStepStates: boolean | undefined = false,
  ) {
    this.handlerId = handlerId;
    this.entry = entry;
    this.#clock = clock;
    this.#onChange = onChange;
    this.#metrics = metrics;
    this.#logger = logger;
    this.#trace = trace;
    if (trace) this.aroundStep = LiveRun.#aroundTraced;
    this.#keepStepStates = keepStepStates === true;
  }

  /** The traced run's `aroundStep`: one function for every run, called as a method of the run. */
  static readonly #aroundTraced = function (this: LiveRun, item: QueuedItem, call: () => unknown): unknown {
    return (this.#trace as RunTracer).aroundStep(item, call); // set only on a run with a tracer
  };

  // The three sets are made on first use: most runs have no inbox item and no child.
  /** Inbox items already delivered to this run (their deletion may not be durable yet). */
  get inboxTaken(): Set<string> {
    this.#inboxTaken ??= new Set();
    return this.#inboxTaken;
  }

  /** Child calls this process has made sure of (started, or their end sent): see child-runs.ts. */
  get childrenSeen(): Set<string> {
    this.#childrenSeen ??= new Set();
    return this.#childrenSeen;
  }

  /** Child calls whose child is durable (or whose end was sent), as this process knows. */
  get childrenSure(): Set<string> {
    this.#childrenSure ??= new Set();
    return this.#childrenSure;
  }

  /** The live state; only valid once the engine has begun. */
  get state(): RunState {
    if (!this.engine) throw new Error("The run has not begun");
    return this.engine.state;
  }

  changed(engine: RunEngine, published: readonly PublishedEvent[]): void {
    this.engine = engine;
    if (engine.state.status !== "running") this.#completedAt ??= isoTime(this.#clock.now());
    // First: a new run's trace context joins the state this change commits.
    if (this.#trace) traced(() => this.#trace?.changed(engine, published));
    if (this.resumeAttempts > 0 && madeProgress(engine.state, published)) this.resumeAttempts = 0;
    // Serialized now, once: user code may change an event's value after publishing it.
    const rows: EventRow[] = new Array(published.length);
    for (let i = 0; i < published.length; i++) {
      const e = published[i] as PublishedEvent;
      // A step's end carries the state after the whole change (serialized here, at once): a fork point.
      const kept =
        this.#keepStepStates && isStepEnd(e) ? { ...e, value: { ...e.value, run_state: engine.state } } : e;
      rows[i] = { sequence: e.sequence, json: eventJson(kept) };
    }
    this.#metrics?.changed(engine.state, published);
    this.#onChange(this, rows);
  }

  /** One log line per failed attempt, with the error itself (its stack is in memory only, never stored). */
  stepFailed(engine: RunEngine, failure: StepFailure): void {
    if (this.#trace) traced(() => this.#trace?.stepFailed(failure));
    const details = {
      workflow: this.entry.name,
      handlerId: this.handlerId,
      runId: engine.state.runId,
      step: failure.step,
      attempt: failure.attempt,
      error: failure.error,
    };
    try {
      if (failure.retried) this.#logger.warn("step failed; it will be retried", details);
      else this.#logger.error("step failed; the run fails", details);
    } catch {
      // A logger that throws must not change the run.
    }
  }

  /** The record as it stands now (shares nothing with the live state). */
  record(): HandlerRecord {
    const state = this.state;
    const ended = state.status !== "running";
    const completedAt = ended ? (this.#completedAt ?? isoTime(this.#clock.now())) : null;
    return {
      handlerId: this.handlerId,
      workflowName: this.entry.name,
      runId: state.runId,
      status: state.status,
      result: ended && state.outcome ? toJson(state.outcome.result) : null,
      error: ended ? recordError(state.outcome) : null,
      startedAt: isoTime(state.startedAt),
      // An ended run's record no longer changes: the same answer from memory and from the store.
      updatedAt: completedAt ?? isoTime(this.#clock.now()),
      completedAt,
      resumeAttempts: this.resumeAttempts,
      workflowVersion: this.workflowVersion,
      // A run that goes on is not blocked: its first commit clears what a process that could not run it wrote.
      blocked: null,
      // A released idle run is woken then by whichever process reads it first (waker.ts).
      wakeAt: !ended && state.idle ? earliestTimer(state) : null,
      ...this.links,
      queued: false,
    };
  }

  snapshot(): { stateJson: string; record: HandlerRecord; idleUntil: number | null } {
    // Serialized now: the store may write after an await, when the live state has moved on.
    const state = this.state;
    // A run waiting on a child whose start is not known durable is not idle to the store: should this
    // process die, a restart or a takeover loads it, and it starts the child then.
    const idleUntil =
      state.status === "running" && state.idle && !this.#childUnsure()
        ? (earliestTimer(state) ?? Number.MAX_SAFE_INTEGER)
        : null;
    return { stateJson: jsonText(state), record: this.record(), idleUntil };
  }

  #childUnsure(): boolean {
    const calls = this.state.children;
    if (!calls) return false;
    for (const id in calls) if (!calls[id]?.ended && !this.childrenSure.has(id)) return true;
    return false;
  }
}

const eventWriter = new PublishedJsonWriter();

/** Tracing must never change a run: whatever it throws is dropped. */
function traced(fn: () => void): void {
  try {
    fn();
  } catch {
    // The run goes on untraced for this change.
  }
}

const isStepEnd = (e: PublishedEvent): boolean =>
  e.qualifiedName === StepStateChanged.name && e.value["state"] === "idle";

/** A step finished (or the run went idle or ended): the code that was resumed did not crash the process. */
function madeProgress(state: RunState, published: readonly PublishedEvent[]): boolean {
  if (state.status !== "running" || state.idle) return true;
  return published.some(isStepEnd);
}

/** An event's JSON; a value JSON cannot hold (bigint, cycles) must not make every commit of the batch fail. */
function eventJson(e: PublishedEvent): string {
  try {
    return eventWriter.write(e);
  } catch {
    return JSON.stringify({ ...e, value: toJson(e.value) });
  }
}

/** JSON text of what JSON can keep of `value`. */
function jsonText(value: unknown): string {
  try {
    return JSON.stringify(value) ?? "null";
  } catch {
    return JSON.stringify(toJson(value));
  }
}

// Values from user code may hold what JSON cannot (bigint, cycles): never let that stop the writer.
function toJson(value: unknown): unknown {
  if (value === undefined) return null;
  try {
    // Without a replacer first: V8's fast path; a bigint throws and takes the slow one.
    return JSON.parse(JSON.stringify(value) ?? "null");
  } catch {
    try {
      return JSON.parse(
        JSON.stringify(value, (_key, v: unknown) => (typeof v === "bigint" ? v.toString() : v)) ?? "null",
      );
    } catch {
      return String(value);
    }
  }
}
