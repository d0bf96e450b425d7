import { addChild, type ChildRequest, ChildWorkflowEnded, childEnded } from "./child-runs.js";
import { collectInto, releaseCollected } from "./collect-events.js";
import { StepContext } from "./context.js";
import { addDelayed, forgetDelivered, takeDue } from "./delayed-events.js";
import { EngineTimers } from "./engine-timers.js";
import type { Execution, RunEngineOptions, StepHost, WaitForEventOptions } from "./engine-types.js";
import { WorkflowError, WorkflowTimeoutError } from "./errors.js";
import {
  type EventDefinition,
  InputRequiredEvent,
  StopEvent,
  type WorkflowEvent,
  WorkflowIdleEvent,
} from "./events.js";
import { Executions } from "./executions.js";
import { takePendingStart } from "./initial-state.js";
import { publishedEvent } from "./published-event.js";
import { retryDelayMs } from "./retry.js";
import { routeEvent } from "./route-event.js";
import * as outcomes from "./run-outcomes.js";
import * as queues from "./run-queues.js";
import { RunSignals } from "./run-signals.js";
import type { ChildCall, JsonValue, PublishedEvent, QueuedItem, RunOutcome, RunState } from "./run-state.js";
import { type RunTimer, runTimers, waitKey } from "./run-timers.js";
import * as results from "./step-results.js";
import { type WaitLoop, waitForEvent } from "./wait-for.js";
import * as waiters from "./waiters.js";
import type { StepDeclaration, WorkflowDefinition } from "./workflow-definition.js";

export type { Execution, RunEngineOptions, RunJournal, StepFailure } from "./engine-types.js";

/**
 * The run loop. It owns one RunState and is the only code that changes it; every change ends in
 * {@link RunEngine.#changed}, which hands the published events to the journal.
 */
export class RunEngine implements StepHost {
  readonly workflow: WorkflowDefinition;
  readonly state: RunState;
  readonly history: PublishedEvent[] | null;
  readonly #options: RunEngineOptions;
  readonly #signals = new RunSignals();
  readonly #executions: Executions;
  #waitLoop: WaitLoop | null = null;
  readonly #timers: EngineTimers;
  #listeners: Set<() => void> | null = null;
  #pending: PublishedEvent[] = [];
  #live = true;
  #held = false;
  #failureCause: unknown = undefined;
  readonly #done: Promise<RunOutcome>;
  #resolveDone!: (outcome: RunOutcome) => void;

  constructor(workflow: WorkflowDefinition, state: RunState, options: RunEngineOptions) {
    this.workflow = workflow;
    this.state = state;
    this.#options = options;
    this.history = options.keepHistory ? [] : null;
    this.#timers = new EngineTimers(options.clock, (kind, id) => this.#timerDue(kind, id));
    this.#executions = new Executions(options.clock);
    this.#done = new Promise((resolve) => {
      this.#resolveDone = resolve;
    });
  }

  /** Resolves when the run ends, whatever the outcome. Never rejects. */
  get done(): Promise<RunOutcome> {
    return this.#done;
  }

  /** The error a failed run's step threw, when it failed in this process. */
  get failureCause(): unknown {
    return this.#failureCause;
  }

  /** Fires when the run is cancelled, times out, ends or is suspended. */
  get signal(): AbortSignal {
    return this.#signals.run;
  }

  get isLive(): boolean {
    return this.#live;
  }

  /** Calls `listener` after every change that published events. Returns an unsubscribe function. */
  onPublish(listener: () => void): () => void {
    this.#listeners ??= new Set();
    this.#listeners.add(listener);
    return () => this.#listeners?.delete(listener);
  }

  /**
   * Begins (or resumes) the loop: work that was in flight goes back to the front of its queue.
   * With `abandon`, a resumed run ends at once, failed with that error, and runs nothing.
   */
  begin(start: WorkflowEvent | null, abandon: Error | null = null): void {
    const s = this.state;
    if (s.status !== "running") {
      this.#live = false;
      this.#resolveDone(s.outcome as RunOutcome);
      return;
    }
    if (abandon) {
      this.#failureCause = abandon;
      const steps = Object.values(s.inFlight).map((item) => item.step);
      this.#end(outcomes.abandoned(abandon, steps));
      return;
    }
    queues.requeueInFlight(s);
    const pending = takePendingStart(s, this.workflow, this.#options.clock.now());
    for (const timer of runTimers(s)) this.#timers.arm(timer);
    const first = start ?? pending;
    if (first) this.#dispatch(first, "outside", null);
    this.#changed();
  }

  /** Delivers an event from outside. Validation of the step and the run's status is the handler's. */
  deliver(event: WorkflowEvent, step: string | null): void {
    if (!this.#live) return;
    if (event.qualifiedName === ChildWorkflowEnded.name) childEnded(this.state, event);
    // Kept in the log with the change it makes: what came from outside, and when.
    this.#publish(results.received(event, step), true);
    this.#dispatch(event, "outside", step);
    this.#changed();
  }

  /** True when a step would take this event: it accepts it, or one of its waiters waits for it. */
  stepTakes(step: StepDeclaration, qualifiedName: string): boolean {
    return waiters.stepTakes(this.state, step, qualifiedName);
  }

  cancel(): void {
    if (!this.#live) return;
    this.#end(outcomes.cancelled());
  }

  /**
   * Stops the loop in memory without ending the run (server shutdown, idle release): timers are
   * cleared and steps aborted; the state stays `running`, ready to be resumed elsewhere.
   */
  suspend(): void {
    if (!this.#live) return;
    this.#live = false;
    this.#clearTimers();
    const stopped = this.#executions.takeAll();
    this.#signals.abortAll(() => new WorkflowError("SERVER_CLOSING", "The run was suspended"), stopped);
    this.#flushListeners();
  }

  /** While held (its commits are failing), the run starts no new step; those running go on. */
  hold(on: boolean): void {
    if (this.#held === on) return;
    this.#held = on;
    if (!on && this.#live && !results.isEmpty(this.state.queues)) this.#changed();
  }

  isCurrent(exec: Execution): boolean {
    return this.#live && this.#executions.has(exec);
  }

  sendFromStep(exec: Execution, event: WorkflowEvent, step: string | null, at: number | null): void {
    if (!this.isCurrent(exec)) return;
    results.checkEmits(this.workflow.getStep(exec.item.step), exec.item.step, event, "sent");
    this.#checkSize(exec, event);
    if (at === null) this.#dispatch(event, "step", step);
    else this.#timers.arm(addDelayed(this.state, exec, event, step, at));
    this.#changed();
  }

  startChild(exec: Execution, request: ChildRequest): ChildCall | null {
    if (!this.isCurrent(exec)) return null;
    const call = addChild(this.state, exec, request);
    this.#changed();
    return call;
  }

  writeToStream(exec: Execution, event: WorkflowEvent): void {
    if (!this.isCurrent(exec)) return;
    this.#checkSize(exec, event);
    this.#publish(event, false);
    this.#changed();
  }

  /** An oversized event fails its step at once (what the step does after the throw no longer counts). */
  #checkSize(exec: Execution, event: WorkflowEvent): void {
    try {
      results.checkSize(event, this.#options.maxEventBytes ?? null, exec.item.step);
    } catch (error) {
      this.#failed(this.workflow.getStep(exec.item.step) as StepDeclaration, exec, error);
      throw error;
    }
  }

  setStore(exec: Execution | null, next: Record<string, JsonValue>): void {
    if (exec && !this.isCurrent(exec)) return;
    this.state.store = next;
    this.#changed();
  }

  collect(
    exec: Execution,
    event: WorkflowEvent,
    expected: readonly EventDefinition[],
  ): WorkflowEvent[] | null {
    if (!this.isCurrent(exec)) return null;
    const found = collectInto(this.state, exec.item, event, expected);
    this.#changed();
    return found;
  }

  waitFor(
    exec: Execution,
    def: EventDefinition,
    options: WaitForEventOptions,
  ): WorkflowEvent | Promise<never> {
    if (!this.isCurrent(exec)) return waiters.never();
    // Made at the run's first wait: most runs never wait.
    this.#waitLoop ??= {
      state: this.state,
      now: () => this.now(),
      checkSize: (waiting, event) => this.#checkSize(waiting, event),
      dispatch: (event) => this.#dispatch(event, "step", null),
      arm: (timer) => this.#timers.arm(timer),
      park: (waiting) => {
        this.#finishExecution(waiting);
        this.#publish(results.stepState(waiting.item, "idle", null), true);
        this.#changed();
      },
      changed: () => this.#changed(),
    };
    return waitForEvent(this.#waitLoop, exec, def, options);
  }

  now(): number {
    return this.#options.clock.now();
  }

  #dispatch(event: WorkflowEvent, from: "step" | "outside", target: string | null): void {
    const def = this.workflow.definitionOf(event.qualifiedName);
    if (def?.extends(StopEvent)) {
      this.#end(outcomes.completed(def, event));
      return;
    }
    if (def?.extends(InputRequiredEvent)) this.#publish(event, false);
    const answered = routeEvent(this.state, this.workflow, event, from, target);
    if (answered) this.#timers.disarm(waitKey(answered.id));
  }

  #pump(): void {
    if (!this.#live || this.#held) return;
    const queues = this.state.queues;
    for (const name in queues) {
      const q = queues[name] as QueuedItem[];
      const step = this.workflow.getStep(name) as StepDeclaration;
      while (q.length > 0 && this.#executions.busy(name) < step.numWorkers) {
        this.#startItem(step, q.shift() as QueuedItem);
      }
      if (q.length === 0) delete queues[name];
    }
  }

  #startItem(step: StepDeclaration, item: QueuedItem): void {
    queues.markInFlight(this.state, item, this.now());
    const exec = this.#executions.begin(item);
    this.#publish(results.stepState(item, "running", null), true);
    const ctx = new StepContext(this, exec, this.#options);
    results
      .callStep(step, ctx, exec, this.#options.clock, () => this.signalOf(exec), this.#options.journal)
      .then(
        (result) => this.#completed(step, exec, result),
        (error: unknown) => this.#failed(step, exec, error),
      );
  }

  /** The signal of one step execution: fires when the run stops or the attempt times out. */
  signalOf(exec: Execution): AbortSignal {
    return this.#signals.of(exec, this.isCurrent(exec));
  }

  #finishExecution(exec: Execution): void {
    this.#executions.finish(exec);
    delete this.state.inFlight[exec.item.id];
  }

  /** The item is done for good: its waiters and its delivered timers go. */
  #dropWaitersOf(itemId: string): void {
    forgetDelivered(this.state, itemId);
    for (const id of waiters.waiterIdsOf(this.state, itemId)) {
      delete this.state.waiters[id];
      this.#timers.disarm(waitKey(id));
    }
  }

  #completed(step: StepDeclaration, exec: Execution, result: unknown): void {
    if (!this.isCurrent(exec)) return;
    let outputs: WorkflowEvent[];
    try {
      outputs = results.checkedOutputs(step, result, this.#options.maxEventBytes ?? null);
    } catch (error) {
      this.#failed(step, exec, error);
      return;
    }
    this.#finishExecution(exec);
    this.#dropWaitersOf(exec.item.id);
    releaseCollected(this.state, exec.item);
    this.#publish(results.stepState(exec.item, "idle", outputs[0]?.type ?? null), true);
    for (const ev of outputs) {
      if (!this.#live) break;
      this.#dispatch(ev, "step", null);
    }
    this.#changed();
  }

  #failed(step: StepDeclaration, exec: Execution, error: unknown): void {
    if (!this.isCurrent(exec)) return;
    this.#finishExecution(exec);
    this.#publish(results.stepState(exec.item, "idle", null, results.errorOf(error)), true);
    const item = exec.item;
    const policy = step.retry;
    const retried = policy !== null && results.retryable(policy, item, error);
    this.#options.journal?.stepFailed?.(this, { step: step.name, attempt: item.attempt, error, retried });
    if (policy && retried) {
      const at = this.now() + retryDelayMs(policy, item.attempt + 1, this.#options.random);
      this.#timers.arm(queues.addRetry(this.state, item, at));
      this.#changed();
      return;
    }
    this.#dropWaitersOf(item.id);
    this.#failureCause = error;
    this.#end(outcomes.stepFailed(step.name, error, item.attempt));
  }

  /** A timer of the run is due: what happens is its kind's (a retry's or a waiter's changes the state, or not). */
  #timerDue(kind: RunTimer["kind"], id: string): void {
    if (kind === "deadline") this.#timedOut();
    else if (kind === "delay") this.#delayedDue(id);
    else if (this.#live && (kind === "retry" ? queues.retryDue : queues.waiterExpired)(this.state, id))
      this.#changed();
  }

  /** A durable timer is due: its event is dispatched as the step's send would have been. */
  #delayedDue(id: string): void {
    const timer = this.#live ? takeDue(this.state, id) : null;
    if (!timer) return;
    this.#dispatch(timer.event, "step", timer.step);
    this.#changed();
  }

  #clearTimers(): void {
    this.#timers.clear();
    this.#executions.clearTimers();
  }

  #timedOut(): void {
    if (!this.#live) return;
    const active = queues.activeSteps(this.state);
    const seconds = this.workflow.timeout ?? 0;
    this.#failureCause = new WorkflowTimeoutError(seconds, active);
    this.#end(outcomes.timedOut(seconds, active));
  }

  #end(outcome: RunOutcome): void {
    if (!this.#live) return;
    outcomes.settle(this.state, outcome);
    this.#publish(outcome.stopEvent, false);
    this.#live = false;
    this.#clearTimers();
    const cause = this.#failureCause;
    this.#signals.abortAll(() => outcomes.stopReason(outcome, cause), this.#executions.takeAll());
    this.#changed();
    this.#resolveDone(outcome);
  }

  #publish(event: WorkflowEvent, internal: boolean): void {
    const published = publishedEvent(this.workflow, this.state, event, internal, this.now());
    this.#pending.push(published);
    this.history?.push(published);
  }

  /** The one place every change ends: start what can start, note idleness, tell the journal. */
  #changed(): void {
    const s = this.state;
    if (this.#live) {
      this.#pump();
      if (!s.idle && results.isEmpty(s.queues) && results.isEmpty(s.inFlight) && results.isEmpty(s.retries)) {
        s.idle = true;
        this.#publish(WorkflowIdleEvent.create({}), true);
      }
    }
    const published = this.#pending;
    this.#pending = [];
    this.#options.journal?.changed(this, published);
    if (published.length > 0) this.#flushListeners();
  }

  #flushListeners(): void {
    if (this.#listeners) for (const listener of this.#listeners) listener();
  }
}
