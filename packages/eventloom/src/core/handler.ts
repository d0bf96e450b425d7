import { type Clock, randomId, systemClock } from "./clock.js";
import { Context } from "./context.js";
import {
  RunEndedError,
  StepFailedError,
  StepRejectsEventError,
  UnknownStepError,
  WorkflowCancelledError,
  WorkflowError,
  WorkflowTimeoutError,
} from "./errors.js";
import { type EventDefinition, StartEvent, type WorkflowEvent } from "./events.js";
import { initialRunState } from "./initial-state.js";
import { RunEngine, type RunJournal } from "./run-engine.js";
import type { PublishedEvent, RunOutcome, RunState } from "./run-state.js";
import { parseRunState } from "./state-codec.js";
import type { WorkflowDefinition } from "./workflow-definition.js";

export interface RunOptions {
  /**
   * A context to start from. A context of a run that was still going (it has pending work) is
   * resumed and `start` is ignored; the context of an ended run gives its state to a new run.
   */
  context?: Context | RunState | unknown;
  /** The new run's id; a random one when missing. */
  runId?: string;
  /** Sequence of the first published event (a continued handler goes on from its last one). */
  firstSequence?: number;
  clock?: Clock;
  /** Source of randomness for retry jitter. */
  random?: () => number;
  /** Receives every change, for persistence. */
  journal?: RunJournal;
  /** Keep published events in memory for `stream()`. Default true; a server streams from its store. */
  keepHistory?: boolean;
  /** Events accepted from outside besides those the steps declare (for validation). */
  additionalEvents?: readonly EventDefinition[];
  /**
   * The largest event (bytes of its data's JSON) a step may return, send or write to the stream: a
   * larger one fails the step with `EVENT_TOO_LARGE`. Default: no limit (a server sets 1 MiB).
   */
  maxEventBytes?: number | null;
  /**
   * Resume the `context` only to end it at once, failed with this error, running nothing (a server
   * stopping a run that crashed the process each time it was resumed).
   */
  abandonWith?: Error;
  /**
   * A fork: this event is delivered first, from outside, instead of a start event (the start
   * argument is then ignored); the run begins with the workflow's initial state.
   */
  firstEvent?: WorkflowEvent;
}

export interface StreamOptions {
  /** Also yield step-state and idle events. Default false. */
  includeInternal?: boolean;
}

/**
 * A run in this process: await it for the result, stream its events, send events into it, cancel it.
 * Awaiting rejects with {@link StepFailedError}, {@link WorkflowTimeoutError} or
 * {@link WorkflowCancelledError} when the run did not complete.
 */
export class WorkflowHandler<R = unknown, S = Record<string, unknown>> implements PromiseLike<R> {
  readonly engine: RunEngine;
  #result: Promise<R> | null = null;

  private constructor(engine: RunEngine) {
    this.engine = engine;
  }

  /** @internal Creates the run's state and starts its loop. */
  static start<R, S = Record<string, unknown>>(
    workflow: WorkflowDefinition,
    start: WorkflowEvent | Record<string, unknown> | undefined,
    options: RunOptions,
  ): WorkflowHandler<R, S> {
    const startDef = workflow.validate(options.additionalEvents ?? []);
    const clock = options.clock ?? systemClock;
    const prior = readContext(workflow, options.context);
    const resuming = prior !== null && prior.status === "running";
    const state = resuming
      ? prior
      : initialRunState(workflow, {
          runId: options.runId ?? randomId(),
          now: clock.now(),
          prior,
          ...(options.firstSequence === undefined ? {} : { firstSequence: options.firstSequence }),
        });
    const startEvent = resuming ? null : (options.firstEvent ?? toStartEvent(startDef, start));
    const engine = new RunEngine(workflow, state, {
      clock,
      random: options.random ?? Math.random,
      journal: options.journal ?? null,
      keepHistory: options.keepHistory ?? true,
      additionalEvents: options.additionalEvents ?? [],
      maxEventBytes: options.maxEventBytes ?? null,
    });
    const handler = new WorkflowHandler<R, S>(engine);
    engine.begin(startEvent, resuming ? (options.abandonWith ?? null) : null);
    return handler;
  }

  get runId(): string {
    return this.engine.state.runId;
  }

  /** The live state (read it; do not change it). */
  get state(): RunState {
    return this.engine.state;
  }

  /** The run's context: its store (typed by the workflow's state schema) and `toJSON()`. */
  get context(): Context<S> {
    return Context.live<S>(this.engine);
  }

  /** Resolves with the outcome when the run ends; never rejects. */
  get done(): Promise<RunOutcome> {
    return this.engine.done;
  }

  get outcome(): RunOutcome | null {
    return this.engine.state.outcome;
  }

  // biome-ignore lint/suspicious/noThenProperty: a handler is awaitable by design
  then<A = R, B = never>(
    onFulfilled?: ((value: R) => A | PromiseLike<A>) | null,
    onRejected?: ((reason: unknown) => B | PromiseLike<B>) | null,
  ): Promise<A | B> {
    this.#result ??= this.engine.done.then((outcome) => {
      if (outcome.status === "completed") return outcome.result as R;
      throw outcomeError(outcome, this.engine.failureCause);
    });
    return this.#result.then(onFulfilled, onRejected);
  }

  /**
   * The published events, from the first, then live, ending after the stop event.
   * Any number of streams may read one run.
   */
  async *stream(options: StreamOptions = {}): AsyncGenerator<WorkflowEvent & { sequence: number }> {
    const history = this.engine.history;
    if (!history) throw new WorkflowError("INVALID_CONTEXT", "This run keeps no history to stream");
    let index = 0;
    for (;;) {
      while (index < history.length) {
        const p = history[index++] as PublishedEvent;
        if (p.internal && !options.includeInternal) continue;
        yield { type: p.type, qualifiedName: p.qualifiedName, data: p.value, sequence: p.sequence };
      }
      if (!this.engine.isLive) return;
      await new Promise<void>((resolve) => {
        const off = this.engine.onPublish(() => {
          off();
          resolve();
        });
      });
    }
  }

  /**
   * Sends an event into the run, optionally to one step. Throws when the run has ended, the step is
   * unknown, or the step neither accepts nor waits for the event.
   */
  sendEvent(event: WorkflowEvent, options: { step?: string } = {}): void {
    const state = this.engine.state;
    if (state.status !== "running") throw new RunEndedError(state.status);
    if (options.step !== undefined) {
      const step = this.engine.workflow.getStep(options.step);
      if (!step) throw new UnknownStepError(options.step);
      if (!this.engine.stepTakes(step, event.qualifiedName))
        throw new StepRejectsEventError(step.name, event.type);
    }
    this.engine.deliver(event, options.step ?? null);
  }

  /** Cancels the run: its steps' signals fire and a WorkflowCancelledEvent ends its stream. */
  async cancel(): Promise<void> {
    const state = this.engine.state;
    if (state.status !== "running") throw new RunEndedError(state.status);
    this.engine.cancel();
  }

  /** Stops the run in memory without ending it, so that it can be resumed from its state elsewhere. */
  suspend(): void {
    this.engine.suspend();
  }
}

function readContext(workflow: WorkflowDefinition, context: unknown): RunState | null {
  if (context === undefined || context === null) return null;
  if (context instanceof Context) return parseRunState(context.toJSON(), workflow);
  if (typeof context === "object" && Object.keys(context).length === 0) return null;
  return parseRunState(context, workflow);
}

function toStartEvent(
  def: EventDefinition,
  start: WorkflowEvent | Record<string, unknown> | undefined,
): WorkflowEvent {
  if (start === undefined || start === null) return def.create({});
  const maybe = start as Partial<WorkflowEvent>;
  if (typeof maybe.qualifiedName === "string" && typeof maybe.data === "object" && maybe.data !== null) {
    // A plain StartEvent may start a workflow whose start event extends it: its fields are re-checked.
    if (maybe.qualifiedName === def.name) return start as WorkflowEvent;
    if (maybe.qualifiedName === StartEvent.name) return def.create(maybe.data);
    throw new WorkflowError(
      "VALIDATION_ERROR",
      `${maybe.type} is not this workflow's start event (${def.type})`,
      {
        issues: [{ path: "start_event", message: `Expected ${def.type}, got ${maybe.type}` }],
      },
    );
  }
  return def.create(start);
}

function outcomeError(outcome: RunOutcome, cause: unknown): Error {
  if (outcome.status === "cancelled") return new WorkflowCancelledError();
  if (cause instanceof WorkflowTimeoutError) return cause;
  const data = outcome.stopEvent.data as { timeout?: number; active_steps?: string[]; attempts?: number };
  if (outcome.failedStep === null && typeof data.timeout === "number") {
    return new WorkflowTimeoutError(data.timeout, data.active_steps ?? []);
  }
  return new StepFailedError(
    outcome.failedStep ?? "unknown",
    data.attempts ?? 1,
    outcome.error ?? "failed",
    cause,
  );
}
