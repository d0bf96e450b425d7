import type { Clock } from "./clock.js";
import { isoTime } from "./clock.js";
import { StepTimeoutError, WorkflowCancelledError, WorkflowError, WorkflowTimeoutError } from "./errors.js";
import {
  Event,
  type EventDefinition,
  InputRequiredEvent,
  StepStateChanged,
  StopEvent,
  WorkflowCancelledEvent,
  type WorkflowEvent,
  WorkflowFailedEvent,
  WorkflowIdleEvent,
  WorkflowTimedOutEvent,
} from "./events.js";
import { retryDelayMs } from "./retry.js";
import type { JsonValue, PublishedEvent, QueuedItem, RunOutcome, RunState, Waiter } from "./run-state.js";
import type { StepDeclaration, Workflow } from "./workflow.js";

/** Receives every change of a run, synchronously, so that a server can persist it. */
export interface RunJournal {
  /**
   * Called after each change of the run's state (read it from `engine.state`), with the events
   * published by that change, in sequence order (possibly none).
   */
  changed(engine: RunEngine, published: readonly PublishedEvent[]): void;
}

export interface RunEngineOptions {
  clock: Clock;
  random: () => number;
  journal: RunJournal | null;
  /** Keep every published event in memory so that `stream()` can replay them. */
  keepHistory: boolean;
  /** Builds the `ctx` a step function receives (injected: the context module imports this one). */
  makeContext(engine: RunEngine, exec: Execution): unknown;
}

/** One attempt of a step on one item; replaced (and so made stale) when the item runs again. */
export interface Execution {
  readonly item: QueuedItem;
  /** Created when the step first reads `ctx.signal`. */
  controller: AbortController | null;
  waitCalls: number;
  timer: unknown;
}

const MAX_UNCLAIMED = 1000;

/**
 * Lets a step's `waitForEvent` end the execution without running anything after the await. A fresh
 * promise each time: nothing but the parked step references it, so both are garbage collected
 * (a shared one would keep every parked step's frame alive through its reaction list).
 */
const never = (): Promise<never> => new Promise<never>(() => {});

/**
 * The run loop. It owns one RunState and is the only code that changes it; every change ends in
 * {@link RunEngine.#changed}, which hands the published events to the journal.
 */
export class RunEngine {
  readonly workflow: Workflow;
  readonly state: RunState;
  readonly history: PublishedEvent[] | null;
  readonly #options: RunEngineOptions;
  #runController: AbortController | null = null;
  /** Why the run stopped; made on demand (an Error's stack is costly and rarely read). */
  #stopReason: (() => unknown) | null = null;
  readonly #executions = new Map<string, Execution>();
  readonly #busy = new Map<string, number>();
  readonly #timers = new Map<string, unknown>();
  readonly #listeners = new Set<() => void>();
  #pending: PublishedEvent[] = [];
  #live = true;
  #failureCause: unknown = undefined;
  readonly #done: Promise<RunOutcome>;
  #resolveDone!: (outcome: RunOutcome) => void;

  constructor(workflow: Workflow, state: RunState, options: RunEngineOptions) {
    this.workflow = workflow;
    this.state = state;
    this.#options = options;
    this.history = options.keepHistory ? [] : null;
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
    if (!this.#runController) {
      this.#runController = new AbortController();
      if (this.#stopReason) this.#runController.abort(this.#stopReason());
    }
    return this.#runController.signal;
  }

  get isLive(): boolean {
    return this.#live;
  }

  /** Calls `listener` after every change that published events. Returns an unsubscribe function. */
  onPublish(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Begins (or resumes) the loop: work that was in flight goes back to the front of its queue. */
  begin(start: WorkflowEvent | null): void {
    const s = this.state;
    if (s.status !== "running") {
      this.#live = false;
      this.#resolveDone(s.outcome as RunOutcome);
      return;
    }
    const inFlight = Object.values(s.inFlight).sort((a, b) => a.startedAt - b.startedAt);
    for (let i = inFlight.length - 1; i >= 0; i--) {
      const { startedAt: _, ...item } = inFlight[i] as (typeof inFlight)[number];
      this.#queue(item.step).unshift(item);
    }
    s.inFlight = {};
    for (const retry of Object.values(s.retries)) this.#armRetry(retry.id, retry.at);
    for (const waiter of Object.values(s.waiters)) this.#armWaiter(waiter);
    if (s.deadline !== null) {
      this.#timers.set(
        "deadline",
        this.#options.clock.setTimeout(() => this.#timedOut(), s.deadline - this.#now()),
      );
    }
    if (start) this.#dispatch(start, "outside", null);
    this.#changed();
  }

  // ---- commands from outside the run --------------------------------------------------------------

  /** Delivers an event from outside. Validation of the step and the run's status is the handler's. */
  deliver(event: WorkflowEvent, step: string | null): void {
    if (!this.#live) return;
    this.#dispatch(event, "outside", step);
    this.#changed();
  }

  /** True when a step would take this event: it accepts it, or one of its waiters waits for it. */
  stepTakes(step: StepDeclaration, qualifiedName: string): boolean {
    return (
      step.accepts.some((d) => d.name === qualifiedName) ||
      Object.values(this.state.waiters).some(
        (w) => w.item.step === step.name && w.eventName === qualifiedName,
      )
    );
  }

  cancel(): void {
    if (!this.#live) return;
    this.#end({
      status: "cancelled",
      result: null,
      error: "Workflow was cancelled",
      stopEvent: WorkflowCancelledEvent.create({}),
      failedStep: null,
    });
  }

  /**
   * Stops the loop in memory without ending the run (server shutdown, idle release): timers are
   * cleared and steps aborted; the state stays `running`, ready to be resumed elsewhere.
   */
  suspend(): void {
    if (!this.#live) return;
    this.#live = false;
    this.#clearTimers();
    this.#abortAll(() => new WorkflowError("SERVER_CLOSING", "The run was suspended"));
    this.#executions.clear();
    this.#flushListeners();
  }

  // ---- what a step's context calls ----------------------------------------------------------------

  isCurrent(exec: Execution): boolean {
    return this.#live && this.#executions.get(exec.item.id) === exec;
  }

  sendFromStep(exec: Execution, event: WorkflowEvent, step: string | null): void {
    if (!this.isCurrent(exec)) return;
    this.#checkEmits(exec.item.step, event, "sent");
    this.#dispatch(event, "step", step);
    this.#changed();
  }

  writeToStream(exec: Execution, event: WorkflowEvent): void {
    if (!this.isCurrent(exec)) return;
    this.#publish(event, false);
    this.#changed();
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
    const collected = this.state.collected;
    const me = exec.item.id;
    const buffer = collected[exec.item.step] ?? [];
    collected[exec.item.step] = buffer;
    if (!buffer.some((b) => b.itemId === me)) buffer.push({ itemId: me, event, consumedBy: null });
    const used = new Set<number>();
    const found: WorkflowEvent[] = [];
    for (const def of expected) {
      const index = buffer.findIndex(
        (b, i) =>
          !used.has(i) &&
          (b.consumedBy === null || b.consumedBy === me) &&
          b.event.qualifiedName === def.name,
      );
      if (index < 0) {
        this.#changed();
        return null;
      }
      used.add(index);
      found.push((buffer[index] as { event: WorkflowEvent }).event);
    }
    for (const i of used) (buffer[i] as { consumedBy: string | null }).consumedBy = me;
    this.#changed();
    return found;
  }

  /** Drops the buffered events a finished step consumed. */
  #releaseCollected(item: QueuedItem): void {
    const buffer = this.state.collected[item.step];
    if (!buffer?.some((b) => b.consumedBy === item.id)) return;
    const left = buffer.filter((b) => b.consumedBy !== item.id);
    if (left.length > 0) this.state.collected[item.step] = left;
    else delete this.state.collected[item.step];
  }

  /**
   * `ctx.waitForEvent`: returns the answer when this call already has one (the step is running again
   * after the answer arrived); otherwise registers a waiter, parks the item and ends the execution.
   */
  waitFor(
    exec: Execution,
    def: EventDefinition,
    options: {
      waiterEvent?: WorkflowEvent;
      requirements?: Record<string, JsonValue>;
      timeout?: number | null;
    },
  ): WorkflowEvent | Promise<never> {
    if (!this.isCurrent(exec)) return never();
    const id = `${exec.item.id}:${exec.waitCalls++}`;
    const s = this.state;
    const existing = s.waiters[id];
    if (existing?.answer) return existing.answer;
    if (existing?.expired) {
      delete s.waiters[id];
      this.#changed();
      throw new WaitTimeout(def.type, options.timeout ?? 0);
    }
    if (!existing) {
      const requirements = options.requirements ?? {};
      const waiter: Waiter = {
        id,
        item: { id: exec.item.id, step: exec.item.step, event: exec.item.event, attempt: exec.item.attempt },
        eventName: def.name,
        requirements,
        deadline: options.timeout ? this.#now() + options.timeout * 1000 : null,
        answer: null,
        expired: false,
      };
      const claimed = s.unclaimed.findIndex((ev) => matchesWaiter(waiter, ev));
      if (claimed >= 0) {
        waiter.answer = s.unclaimed.splice(claimed, 1)[0] as WorkflowEvent;
        s.waiters[id] = waiter;
        this.#changed();
        return waiter.answer;
      }
      s.waiters[id] = waiter;
      if (options.waiterEvent) this.#dispatch(options.waiterEvent, "step", null);
      this.#armWaiter(waiter);
    }
    // The step ends here and runs again from its start once the answer arrives.
    this.#finishExecution(exec);
    this.#publish(stepState(exec.item, "idle", null), true);
    this.#changed();
    return never();
  }

  // ---- the loop ----------------------------------------------------------------------------------

  #now(): number {
    return this.#options.clock.now();
  }

  #queue(step: string): QueuedItem[] {
    const queues = this.state.queues;
    let q = queues[step];
    if (!q) {
      q = [];
      queues[step] = q;
    }
    return q;
  }

  #newItem(step: string, event: WorkflowEvent): QueuedItem {
    return { id: `i${this.state.nextItemId++}`, step, event, attempt: 1 };
  }

  #dispatch(event: WorkflowEvent, from: "step" | "outside", target: string | null): void {
    const s = this.state;
    const def = this.workflow.definitionOf(event.qualifiedName);
    if (def?.extends(StopEvent)) {
      this.#end({
        status: "completed",
        result: def === StopEvent || def.name === StopEvent.name ? (event.data.result ?? null) : event.data,
        error: null,
        stopEvent: event,
        failedStep: null,
      });
      return;
    }
    if (def?.extends(InputRequiredEvent)) this.#publish(event, false);
    let taken = false;
    for (const id in s.waiters) {
      const waiter = s.waiters[id] as Waiter;
      if (waiter.answer || waiter.expired || (target !== null && waiter.item.step !== target)) continue;
      if (!matchesWaiter(waiter, event)) continue;
      waiter.answer = event;
      this.#disarm(`wait:${waiter.id}`);
      this.#queue(waiter.item.step).unshift({ ...waiter.item });
      taken = true;
      break;
    }
    for (const step of this.workflow.stepsAccepting(event.qualifiedName)) {
      if (target !== null && step.name !== target) continue;
      this.#queue(step.name).push(this.#newItem(step.name, event));
      taken = true;
    }
    if (!taken && from === "outside") {
      s.unclaimed.push(event);
      if (s.unclaimed.length > MAX_UNCLAIMED) s.unclaimed.shift();
    }
  }

  #pump(): void {
    if (!this.#live) return;
    const queues = this.state.queues;
    for (const name in queues) {
      const q = queues[name] as QueuedItem[];
      const step = this.workflow.getStep(name) as StepDeclaration;
      let busy = this.#busy.get(name) ?? 0;
      while (q.length > 0 && busy < step.numWorkers) {
        this.#startItem(step, q.shift() as QueuedItem);
        busy++;
      }
      this.#busy.set(name, busy);
      if (q.length === 0) delete queues[name];
    }
  }

  #startItem(step: StepDeclaration, item: QueuedItem): void {
    const s = this.state;
    s.idle = false;
    s.inFlight[item.id] = {
      id: item.id,
      step: item.step,
      event: item.event,
      attempt: item.attempt,
      startedAt: this.#now(),
    };
    const exec: Execution = { item, controller: null, waitCalls: 0, timer: undefined };
    this.#executions.set(item.id, exec);
    this.#publish(stepState(item, "running", null), true);
    const ctx = this.#options.makeContext(this, exec) as Parameters<StepDeclaration["fn"]>[0];
    let work = Promise.resolve().then(() => step.fn(ctx, item.event));
    if (step.timeout !== null) {
      const seconds = step.timeout;
      work = Promise.race([
        work,
        new Promise<never>((_, reject) => {
          exec.timer = this.#options.clock.setTimeout(() => {
            const error = new StepTimeoutError(step.name, seconds);
            this.signalOf(exec);
            exec.controller?.abort(error);
            reject(error);
          }, seconds * 1000);
        }),
      ]);
    }
    work.then(
      (result) => this.#completed(step, exec, result),
      (error: unknown) => this.#failed(step, exec, error),
    );
  }

  /** The signal of one step execution: fires when the run stops or the attempt times out. */
  signalOf(exec: Execution): AbortSignal {
    if (!exec.controller) {
      exec.controller = new AbortController();
      if (this.#stopReason) exec.controller.abort(this.signal.reason);
      else if (!this.isCurrent(exec))
        exec.controller.abort(new WorkflowError("HANDLER_ENDED", "The step is stale"));
    }
    return exec.controller.signal;
  }

  /** Aborts the run's signal and every execution's. */
  #abortAll(reason: () => unknown): void {
    let made: unknown;
    const get = () => {
      made ??= reason();
      return made;
    };
    this.#stopReason = get;
    this.#runController?.abort(get());
    for (const exec of this.#executions.values()) exec.controller?.abort(get());
  }

  #finishExecution(exec: Execution): void {
    if (exec.timer !== undefined) this.#options.clock.clearTimeout(exec.timer);
    this.#executions.delete(exec.item.id);
    delete this.state.inFlight[exec.item.id];
    this.#busy.set(exec.item.step, (this.#busy.get(exec.item.step) ?? 1) - 1);
  }

  #dropWaitersOf(itemId: string): void {
    const prefix = `${itemId}:`;
    for (const id of Object.keys(this.state.waiters)) {
      if (id.startsWith(prefix)) {
        delete this.state.waiters[id];
        this.#disarm(`wait:${id}`);
      }
    }
  }

  #completed(step: StepDeclaration, exec: Execution, result: unknown): void {
    if (!this.isCurrent(exec)) return;
    let outputs: WorkflowEvent[];
    try {
      outputs = normalizeOutputs(result);
      for (const ev of outputs) this.#checkEmits(step.name, ev, "returned");
    } catch (error) {
      this.#failed(step, exec, error);
      return;
    }
    this.#finishExecution(exec);
    this.#dropWaitersOf(exec.item.id);
    this.#releaseCollected(exec.item);
    this.#publish(stepState(exec.item, "idle", outputs[0]?.type ?? null), true);
    for (const ev of outputs) {
      if (!this.#live) break;
      this.#dispatch(ev, "step", null);
    }
    this.#changed();
  }

  #failed(step: StepDeclaration, exec: Execution, error: unknown): void {
    if (!this.isCurrent(exec)) return;
    this.#finishExecution(exec);
    this.#publish(stepState(exec.item, "idle", null, errorOf(error)), true);
    const item = exec.item;
    const policy = step.retry;
    const retryable =
      !(error instanceof UndeclaredEventError) &&
      policy !== null &&
      item.attempt < policy.maxAttempts &&
      (policy.retryOn ? safeRetryOn(policy.retryOn, error) : true);
    if (retryable && policy) {
      const at = this.#now() + retryDelayMs(policy, item.attempt + 1, this.#options.random);
      this.state.retries[item.id] = { ...item, attempt: item.attempt + 1, at };
      this.#armRetry(item.id, at);
      this.#changed();
      return;
    }
    this.#dropWaitersOf(item.id);
    this.#failureCause = error;
    const err = error instanceof Error ? error : new Error(String(error));
    const name = error instanceof WaitTimeout ? "WaitForEventTimeoutError" : err.name || "Error";
    this.#end({
      status: "failed",
      result: null,
      error: err.message,
      stopEvent: WorkflowFailedEvent.create({
        step_name: step.name,
        error: { name, message: err.message },
        attempts: item.attempt,
      }),
      failedStep: step.name,
    });
  }

  #armRetry(id: string, at: number): void {
    this.#timers.set(
      `retry:${id}`,
      this.#options.clock.setTimeout(() => {
        this.#timers.delete(`retry:${id}`);
        const retry = this.state.retries[id];
        if (!this.#live || !retry) return;
        delete this.state.retries[id];
        const { at: _, ...item } = retry;
        this.#queue(item.step).push(item);
        this.#changed();
      }, at - this.#now()),
    );
  }

  #armWaiter(waiter: Waiter): void {
    if (waiter.deadline === null || waiter.answer || waiter.expired) return;
    this.#timers.set(
      `wait:${waiter.id}`,
      this.#options.clock.setTimeout(() => {
        this.#timers.delete(`wait:${waiter.id}`);
        const w = this.state.waiters[waiter.id];
        if (!this.#live || !w || w.answer) return;
        w.expired = true;
        this.#queue(w.item.step).unshift({ ...w.item });
        this.#changed();
      }, waiter.deadline - this.#now()),
    );
  }

  #disarm(key: string): void {
    const handle = this.#timers.get(key);
    if (handle !== undefined) {
      this.#options.clock.clearTimeout(handle);
      this.#timers.delete(key);
    }
  }

  #clearTimers(): void {
    for (const handle of this.#timers.values()) this.#options.clock.clearTimeout(handle);
    this.#timers.clear();
    for (const exec of this.#executions.values()) {
      if (exec.timer !== undefined) this.#options.clock.clearTimeout(exec.timer);
    }
  }

  #timedOut(): void {
    if (!this.#live) return;
    const seconds = this.workflow.timeout ?? 0;
    const active = [...new Set(Object.values(this.state.inFlight).map((i) => i.step))];
    this.#failureCause = new WorkflowTimeoutError(seconds, active);
    this.#end({
      status: "failed",
      result: null,
      error: `Workflow timed out after ${seconds}s`,
      stopEvent: WorkflowTimedOutEvent.create({ timeout: seconds, active_steps: active }),
      failedStep: null,
    });
  }

  #end(outcome: RunOutcome): void {
    if (!this.#live) return;
    const s = this.state;
    s.status = outcome.status;
    s.outcome = outcome;
    s.queues = {};
    s.inFlight = {};
    s.retries = {};
    s.waiters = {};
    s.collected = {};
    s.idle = false;
    this.#publish(outcome.stopEvent, false);
    this.#live = false;
    this.#clearTimers();
    const cause = this.#failureCause;
    this.#abortAll(() =>
      outcome.status === "cancelled"
        ? new WorkflowCancelledError()
        : (cause ?? new WorkflowError("HANDLER_ENDED", "The run has ended")),
    );
    this.#executions.clear();
    this.#changed();
    this.#resolveDone(outcome);
  }

  #checkEmits(stepName: string, event: WorkflowEvent, verb: string): void {
    const step = this.workflow.getStep(stepName);
    if (!isWorkflowEvent(event)) {
      throw new UndeclaredEventError(`Step "${stepName}" ${verb} something that is not an event`);
    }
    if (step && !step.emits.some((d) => d.name === event.qualifiedName)) {
      throw new UndeclaredEventError(
        `Step "${stepName}" ${verb} ${event.type}, which it does not declare in emits`,
      );
    }
  }

  #publish(event: WorkflowEvent, internal: boolean): void {
    const def = this.workflow.definitionOf(event.qualifiedName);
    const published: PublishedEvent = {
      sequence: this.state.nextSequence++,
      type: event.type,
      qualifiedName: event.qualifiedName,
      types: (def?.lineage ?? [Event.name, event.qualifiedName]) as string[],
      value: event.data,
      internal,
      timestamp: isoTime(this.#now()),
    };
    this.#pending.push(published);
    this.history?.push(published);
  }

  /** The one place every change ends: start what can start, note idleness, tell the journal. */
  #changed(): void {
    const s = this.state;
    if (this.#live) {
      this.#pump();
      if (!s.idle && isEmpty(s.queues) && isEmpty(s.inFlight) && isEmpty(s.retries)) {
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
    for (const listener of this.#listeners) listener();
  }
}

/** Thrown inside a step by `waitForEvent` when its timeout passed; fails the step like any error. */
export class WaitTimeout extends WorkflowError {
  constructor(type: string, seconds: number) {
    super("WAIT_TIMED_OUT", `No ${type} arrived within ${seconds}s`);
    this.name = "WaitForEventTimeoutError";
  }
}

/** A step returned or sent an event it did not declare: a programming error, never retried. */
export class UndeclaredEventError extends WorkflowError {
  constructor(message: string) {
    super("INVALID_WORKFLOW", message);
  }
}

function isEmpty(record: object): boolean {
  for (const _ in record) return false;
  return true;
}

function matchesWaiter(waiter: Waiter, event: WorkflowEvent): boolean {
  if (event.qualifiedName !== waiter.eventName) return false;
  for (const [key, expected] of Object.entries(waiter.requirements)) {
    if (JSON.stringify(event.data[key]) !== JSON.stringify(expected)) return false;
  }
  return true;
}

function isWorkflowEvent(value: unknown): value is WorkflowEvent {
  return (
    typeof value === "object" &&
    value !== null &&
    typeof (value as WorkflowEvent).qualifiedName === "string" &&
    typeof (value as WorkflowEvent).data === "object"
  );
}

function normalizeOutputs(result: unknown): WorkflowEvent[] {
  if (result === undefined || result === null) return [];
  const list = Array.isArray(result) ? result : [result];
  for (const ev of list) {
    if (!isWorkflowEvent(ev))
      throw new UndeclaredEventError("A step returned something that is not an event");
  }
  return list as WorkflowEvent[];
}

function safeRetryOn(retryOn: (error: unknown) => boolean, error: unknown): boolean {
  try {
    return retryOn(error) === true;
  } catch {
    return false;
  }
}

function stepState(
  item: QueuedItem,
  state: "running" | "idle",
  output: string | null,
  error?: { name: string; message: string },
): WorkflowEvent {
  return {
    type: StepStateChanged.type,
    qualifiedName: StepStateChanged.name,
    data: {
      step: item.step,
      state,
      worker_id: item.id,
      input_event: item.event.type,
      output_event: output,
      attempt: item.attempt,
      ...(error ? { error } : {}),
    },
  };
}

// What a debugger shows of a failed attempt: the same shape as WorkflowFailedEvent's `error`.
function errorOf(error: unknown): { name: string; message: string } {
  if (error instanceof WaitTimeout) return { name: "WaitForEventTimeoutError", message: error.message };
  const err = error instanceof Error ? error : new Error(String(error));
  return { name: err.name || "Error", message: err.message };
}
