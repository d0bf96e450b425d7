import type { Clock } from "./clock.js";
import type { EventDefinition, WorkflowEvent } from "./events.js";
import type { ChildCall, JsonValue, PublishedEvent, QueuedItem, RunState } from "./run-state.js";
import type { WorkflowDefinition } from "./workflow-definition.js";

/** What a journal sees of the run that calls it. */
export interface RunView {
  readonly state: RunState;
}

export interface WaitForEventOptions {
  /** Published before waiting, typically an InputRequiredEvent that tells a person what to answer. */
  waiterEvent?: WorkflowEvent;
  /** Field values the awaited event must have. */
  requirements?: Record<string, JsonValue>;
  /** Seconds to wait before failing the step with a WaitForEventTimeoutError. */
  timeout?: number | null;
}

/**
 * What a step's context (and a run's `Context`) may ask of the run loop. `RunEngine` implements it;
 * contexts depend on this, so that the engine and the contexts it creates do not import each other.
 */
export interface StepHost extends RunView {
  readonly workflow: WorkflowDefinition;
  readonly isLive: boolean;
  setStore(exec: Execution | null, next: Record<string, JsonValue>): void;
  signalOf(exec: Execution): AbortSignal;
  /** `at` (epoch ms): a durable timer that delivers the event then; null: now. */
  sendFromStep(exec: Execution, event: WorkflowEvent, step: string | null, at: number | null): void;
  /** Now, on the run's clock (epoch ms). */
  now(): number;
  /** `ctx.runWorkflow`: records the call (or finds it again); null when the execution is stale. */
  startChild(exec: Execution, request: ChildRequest): ChildCall | null;
  writeToStream(exec: Execution, event: WorkflowEvent): void;
  collect(
    exec: Execution,
    event: WorkflowEvent,
    expected: readonly EventDefinition[],
  ): WorkflowEvent[] | null;
  waitFor(
    exec: Execution,
    def: EventDefinition,
    options: WaitForEventOptions,
  ): WorkflowEvent | Promise<never>;
}

/** Receives every change of a run, synchronously, so that a server can persist it. */
export interface RunJournal {
  /**
   * Called after each change of the run's state (read it from `engine.state`), with the events
   * published by that change, in sequence order (possibly none).
   */
  changed(engine: RunView, published: readonly PublishedEvent[]): void;
  /**
   * Called when an attempt of a step threw, with what it threw (in memory only: its stack is not
   * stored), before the change it causes (a retry, or the run's failure) reaches `changed`.
   */
  stepFailed?(engine: RunView, failure: StepFailure): void;
  /**
   * Runs one step execution: `call` runs the step function and must be called once, synchronously,
   * its result returned (a tracer calls it inside the step's span so that user spans are its children).
   */
  aroundStep?(item: QueuedItem, call: () => unknown): unknown;
}

/** An attempt of a step that threw. */
export interface StepFailure {
  step: string;
  /** Which try of the step on its event, from 1. */
  attempt: number;
  error: unknown;
  /** True when the step's retry policy tries again; false when the run fails. */
  retried: boolean;
}

export interface RunEngineOptions {
  clock: Clock;
  random: () => number;
  journal: RunJournal | null;
  /** Keep every published event in memory so that `stream()` can replay them. */
  keepHistory: boolean;
  /** Events the run takes from outside besides the declared ones (`ctx.waitForEvent` may await them). */
  additionalEvents?: readonly EventDefinition[];
  /** The largest event (bytes of its data's JSON) a step may return, send or stream; null: any. */
  maxEventBytes?: number | null;
}

/** One attempt of a step on one item; replaced (and so made stale) when the item runs again. */
export interface Execution {
  readonly item: QueuedItem;
  /** Created when the step first reads `ctx.signal`. */
  controller: AbortController | null;
  waitCalls: number;
  /** Delayed sends of this execution so far (their index names their timer). */
  laterCalls?: number;
  /** `runWorkflow` calls of this execution so far (their index names their child). */
  childCalls?: number;
  timer: unknown;
}

/** What `ctx.runWorkflow` is asked for. */
export interface ChildRequest {
  workflow: string;
  start: WorkflowEvent;
  /** The child's handler id; null: one made from the parent's run and the call. */
  handlerId: string | null;
  wait: boolean;
}
