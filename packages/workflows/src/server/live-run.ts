import {
  type Clock,
  isoTime,
  type PublishedEvent,
  type RunEngine,
  type RunJournal,
  type RunState,
  type WorkflowHandler,
} from "../core/index.js";
import type { HandlerRecord } from "../stores/store.js";
import type { CommitSource } from "./commit-writer.js";
import type { RegisteredWorkflow } from "./registry.js";

/** One run held in memory: the engine's journal and the commit writer's source for its handler. */
export class LiveRun implements RunJournal, CommitSource {
  readonly handlerId: string;
  readonly entry: RegisteredWorkflow;
  readonly #clock: Clock;
  readonly #onChange: (run: LiveRun, published: readonly PublishedEvent[]) => void;
  engine: RunEngine | null = null;
  handler: WorkflowHandler | null = null;
  /** Pending idle-release timer. */
  idleTimer: unknown = null;
  /** Inbox items already delivered to this run (their deletion may not be durable yet). */
  readonly inboxTaken = new Set<string>();
  #completedAt: string | null = null;

  constructor(
    handlerId: string,
    entry: RegisteredWorkflow,
    clock: Clock,
    onChange: (run: LiveRun, published: readonly PublishedEvent[]) => void,
  ) {
    this.handlerId = handlerId;
    this.entry = entry;
    this.#clock = clock;
    this.#onChange = onChange;
  }

  /** The live state; only valid once the engine has begun. */
  get state(): RunState {
    if (!this.engine) throw new Error("The run has not begun");
    return this.engine.state;
  }

  changed(engine: RunEngine, published: readonly PublishedEvent[]): void {
    this.engine = engine;
    if (engine.state.status !== "running") this.#completedAt ??= isoTime(this.#clock.now());
    // An event whose value JSON cannot hold would make every commit of the batch fail: store what JSON keeps.
    const safe = published.map((e) => ({ ...e, value: toJson(e.value) as Record<string, unknown> }));
    this.#onChange(this, safe);
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
      error: ended ? (state.outcome?.error ?? null) : null,
      startedAt: isoTime(state.startedAt),
      // An ended run's record no longer changes: the same answer from memory and from the store.
      updatedAt: completedAt ?? isoTime(this.#clock.now()),
      completedAt,
    };
  }

  snapshot(): { state: RunState; record: HandlerRecord } {
    // A deep copy now: the store may serialize after an await, when the live state has moved on.
    return { state: toJson(this.state) as RunState, record: this.record() };
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
