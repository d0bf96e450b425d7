import { ChildWorkflowEnded, childOutcome } from "./child-runs.js";
import { dueTime, type SendLater } from "./delayed-events.js";
import type { Execution, RunEngineOptions, StepHost, WaitForEventOptions } from "./engine-types.js";
import type { EventDefinition, EventOf, WorkflowEvent } from "./events.js";
import type { RunState } from "./run-state.js";
import { parseRunState } from "./state-codec.js";
import { createStateStore, type StateStore } from "./state-store.js";
import { UndeclaredEventError } from "./step-results.js";
import { pipeText, type StreamTextOptions } from "./text-stream.js";
import { never } from "./waiters.js";
import type { StateOf, WorkflowDefinition } from "./workflow-definition.js";

export type { WaitForEventOptions } from "./engine-types.js";

/** What a step's context takes of its run's options. */
export type StepContextOptions = Pick<RunEngineOptions, "additionalEvents" | "maxEventBytes">;

/**
 * What a step receives as `ctx`.
 *
 * `waitForEvent` suspends the step: the step ends there and, once a matching event arrives, runs
 * again from its start with the same input event; this time `waitForEvent` returns the event at once.
 * Code before the wait therefore runs again: keep it idempotent, or move it to an earlier step.
 */
export class StepContext<S = Record<string, unknown>> {
  readonly #engine: StepHost;
  readonly #exec: Execution;
  readonly #additionalEvents: readonly EventDefinition[];
  readonly #maxEventBytes: number | null;
  #store: StateStore<S> | null = null;
  #textStreams = 0;

  /**
   * @param options.additionalEvents events the run takes from outside besides the declared ones.
   * @param options.maxEventBytes the run's limit of an event's JSON bytes (null: none).
   */
  constructor(engine: StepHost, exec: Execution, options: StepContextOptions = {}) {
    this.#engine = engine;
    this.#exec = exec;
    this.#additionalEvents = options.additionalEvents ?? [];
    this.#maxEventBytes = options.maxEventBytes ?? null;
  }

  /** The run's state: JSON values by key or dotted path, persisted with the run. */
  get store(): StateStore<S> {
    const engine = this.#engine;
    const exec = this.#exec;
    this.#store ??= createStateStore<S>(
      () => engine.state.store,
      (next) => engine.setStore(exec, next),
      engine.workflow.stateSchema as never,
    );
    return this.#store;
  }

  /** Fires when the run is cancelled, times out or the attempt's timeout passes: stop I/O then. */
  get signal(): AbortSignal {
    return this.#engine.signalOf(this.#exec);
  }

  /** The name of the step this context belongs to. */
  get stepName(): string {
    return this.#exec.item.step;
  }

  /** Which attempt this is, from 1. */
  get attempt(): number {
    return this.#exec.item.attempt;
  }

  /**
   * Queues an event for the steps that accept it (or for one step). It must be in this step's `emits`.
   * With `delay` (seconds) or `at` (a Date or ISO 8601 time) it is a durable timer: the event is
   * delivered then, once, even across restarts, and a run waiting only on timers is released from
   * memory like one waiting for a person. A step that runs again does not set its timers twice.
   *
   * @example ctx.sendEvent(Remind.create({}), { delay: 3 * 24 * 3600 });
   */
  sendEvent(event: WorkflowEvent, options: { step?: string } & SendLater = {}): void {
    const at = dueTime(options, this.#engine.now());
    this.#engine.sendFromStep(this.#exec, event, options.step ?? null, at);
  }

  /**
   * Starts another registered workflow as its own handler (its record's `parentHandlerId` is this
   * run) and resolves to its result, or rejects with a {@link ChildWorkflowError} when it fails or
   * is cancelled. Like `waitForEvent`, the step suspends durably and runs again from its start when
   * the child ends; the child is started once, whatever happens to the parent. With
   * `{ wait: false }` it resolves at once with the child's `handlerId` and the step goes on.
   *
   * @example const summary = await ctx.runWorkflow("summarize", StartEvent.create({ url }));
   */
  runWorkflow(
    workflow: string | { readonly name: string },
    start: WorkflowEvent,
    options: { id?: string; wait: false },
  ): Promise<{ handlerId: string }>;
  runWorkflow(
    workflow: string | { readonly name: string },
    start: WorkflowEvent,
    options?: { id?: string; wait?: true },
  ): Promise<unknown>;
  async runWorkflow(
    workflow: string | { readonly name: string },
    start: WorkflowEvent,
    options: { id?: string; wait?: boolean } = {},
  ): Promise<unknown> {
    const wait = options.wait !== false;
    const name = typeof workflow === "string" ? workflow : workflow.name;
    const call = this.#engine.startChild(this.#exec, {
      workflow: name,
      start,
      handlerId: options.id ?? null,
      wait,
    });
    if (!call) return never();
    if (!wait) return { handlerId: call.handlerId };
    const ended = await this.#engine.waitFor(this.#exec, ChildWorkflowEnded, {
      requirements: { handler_id: call.handlerId },
    });
    return childOutcome(ended);
  }

  /** Publishes an event to whoever streams the run. */
  writeEventToStream(event: WorkflowEvent): void {
    this.#engine.writeToStream(this.#exec, event);
  }

  /**
   * Buffers `event` until one of each listed definition has arrived (with multiplicity); returns
   * null until then, and then the events in the listed order.
   */
  collectEvents<const D extends readonly EventDefinition[]>(
    event: WorkflowEvent,
    expected: D,
  ): { [K in keyof D]: EventOf<D[K]> } | null {
    return this.#engine.collect(this.#exec, event, expected) as { [K in keyof D]: EventOf<D[K]> } | null;
  }

  /**
   * Publishes `waiterEvent`, then waits for an event of `def` (see the class comment for what re-runs).
   * Declare `def` in the step's `waitsFor`, so that it is on the graph and taken from outside.
   * @throws UndeclaredEventError (fails the step, never retried) when `def` is declared nowhere: not
   *   in this step's `waitsFor`, not by another step, not in the server's `additionalEvents`.
   */
  async waitForEvent<D extends EventDefinition>(
    def: D,
    options: WaitForEventOptions = {},
  ): Promise<EventOf<D>> {
    const step = this.#exec.item.step;
    if (!this.#engine.workflow.mayAwait(step, def, this.#additionalEvents)) {
      throw new UndeclaredEventError(
        `Step "${step}" waits for ${def.type}, which the workflow does not declare: declare it on the step: waitsFor: [${def.type}]`,
      );
    }
    return (await this.#engine.waitFor(this.#exec, def, options)) as EventOf<D>;
  }

  /** A copy of the run's whole state (what `Context.fromJSON` takes). */
  toJSON(): RunState {
    return structuredClone(this.#engine.state);
  }

  /**
   * Streams text (an LLM's deltas) to whoever follows the run, then publishes one durable
   * `TextEvent` with the whole text, and resolves with it. The deltas are not stored (unless
   * `durable`): readers connected now get them, a reader that connects mid-stream gets the text so
   * far first, and after a restart only the TextEvent remains. See the README's "Streaming tokens".
   *
   * @example
   * const answer = await ctx.streamText(model.stream(prompt, { signal: ctx.signal }));
   */
  streamText(
    source: AsyncIterable<string> | Iterable<string>,
    options: StreamTextOptions = {},
  ): Promise<string> {
    const id = options.id ?? `${this.stepName}:${this.#exec.item.id}:${this.#textStreams++}`;
    const durable = options.durable ?? false;
    return pipeText(this.#engine, this.#engine, this, source, id, durable, this.#maxEventBytes);
  }
}

/**
 * A run's context outside its steps: its state store and its serialized form. `handler.context`
 * gives the live one; `Context.fromJSON` rebuilds one to start or resume a run from.
 */
export class Context<S = Record<string, unknown>> {
  readonly #read: () => RunState;
  readonly #engine: StepHost | null;
  readonly store: StateStore<S>;

  private constructor(read: () => RunState, engine: StepHost | null, workflow: WorkflowDefinition) {
    this.#read = read;
    this.#engine = engine;
    this.store = createStateStore<S>(
      () => read().store,
      (next) => {
        if (engine) engine.setStore(null, next);
        else read().store = next;
      },
      workflow.stateSchema as never,
    );
  }

  /** @internal */
  static live<S>(engine: StepHost): Context<S> {
    return new Context<S>(() => engine.state, engine, engine.workflow);
  }

  /**
   * Rebuilds a context from `toJSON()` output, its store typed by the workflow's state schema; throws a
   * WorkflowError INVALID_CONTEXT when malformed.
   */
  static fromJSON<W extends WorkflowDefinition>(workflow: W, json: unknown): Context<StateOf<W>> {
    const state = parseRunState(json, workflow);
    return new Context<StateOf<W>>(() => state, null, workflow);
  }

  /** True when this context belongs to a run that is going on in this process. */
  get isLive(): boolean {
    return this.#engine?.isLive ?? false;
  }

  /** A copy of the run's whole state. */
  toJSON(): RunState {
    return structuredClone(this.#read());
  }
}
