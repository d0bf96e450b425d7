import type { Clock } from "./clock.js";
import type { Execution, RunJournal } from "./engine-types.js";
import { EventTooLargeError, StepTimeoutError, WorkflowError } from "./errors.js";
import { EventReceived, StepStateChanged, type WorkflowEvent } from "./events.js";
import { jsonLargerThan } from "./json-size.js";
import type { RetryPolicy } from "./retry.js";
import type { QueuedItem } from "./run-state.js";
import type { StepDeclaration } from "./workflow-definition.js";

/** A step returned or sent an event it did not declare: a programming error, never retried. */
export class UndeclaredEventError extends WorkflowError {
  constructor(message: string) {
    super("INVALID_WORKFLOW", message);
  }
}

export function isWorkflowEvent(value: unknown): value is WorkflowEvent {
  return (
    typeof value === "object" &&
    value !== null &&
    typeof (value as WorkflowEvent).qualifiedName === "string" &&
    typeof (value as WorkflowEvent).data === "object"
  );
}

/** What a step function returned, as a list of events; anything else is an {@link UndeclaredEventError}. */
export function normalizeOutputs(result: unknown): WorkflowEvent[] {
  if (result === undefined || result === null) return [];
  const list = Array.isArray(result) ? result : [result];
  for (const ev of list) {
    if (!isWorkflowEvent(ev))
      throw new UndeclaredEventError("A step returned something that is not an event");
  }
  return list as WorkflowEvent[];
}

/** Throws when `step` (returning or sending: `verb`) gives an event it does not declare in `emits`. */
export function checkEmits(
  step: StepDeclaration | undefined,
  stepName: string,
  event: WorkflowEvent,
  verb: string,
): void {
  if (!isWorkflowEvent(event)) {
    throw new UndeclaredEventError(`Step "${stepName}" ${verb} something that is not an event`);
  }
  if (step && !step.emits.some((d) => d.name === event.qualifiedName)) {
    throw new UndeclaredEventError(
      `Step "${stepName}" ${verb} ${event.type}, which it does not declare in emits`,
    );
  }
}

/** Throws {@link EventTooLargeError} when the event's data is more than `limit` bytes of JSON (null: no limit). */
export function checkSize(event: WorkflowEvent, limit: number | null, stepName: string): void {
  if (limit === null) return;
  const { larger, bytes } = jsonLargerThan(event.data, limit);
  if (larger) throw new EventTooLargeError(stepName, event.type, bytes, limit);
}

/** True when the policy gives the failed item another attempt (never after an undeclared or oversized event). */
export function retryable(policy: RetryPolicy, item: QueuedItem, error: unknown): boolean {
  return (
    !(error instanceof UndeclaredEventError) &&
    !(error instanceof EventTooLargeError) &&
    item.attempt < policy.maxAttempts &&
    (policy.retryOn ? safeRetryOn(policy.retryOn, error) : true)
  );
}

/** A retry policy's `retryOn` that throws counts as "do not retry". */
function safeRetryOn(retryOn: (error: unknown) => boolean, error: unknown): boolean {
  try {
    return retryOn(error) === true;
  } catch {
    return false;
  }
}

/**
 * The internal event that tells a stream a step's worker started or stopped, with the attempt and,
 * after a throw, what was thrown (a retry keeps its worker id, so only these tell it from a resume).
 */
export function stepState(
  item: QueuedItem,
  state: "running" | "idle",
  output: string | null,
  error?: ErrorData,
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

/** The internal event that records an event sent into the run from outside (EventReceived). */
export function received(event: WorkflowEvent, step: string | null): WorkflowEvent {
  const data = { type: event.type, qualified_name: event.qualifiedName, value: event.data, step };
  return { type: EventReceived.type, qualifiedName: EventReceived.name, data };
}

/** What events carry of a thrown error (WorkflowFailedEvent's and StepStateChanged's `error`). */
export interface ErrorData {
  name: string;
  message: string;
  stack?: string;
}

/** Events keep this much of a stack: enough to find the line, bounded whatever was thrown. */
const MAX_STACK = 4000;

/** What a debugger shows of a failed attempt: its name, message and (bounded) stack. */
export function errorOf(error: unknown): ErrorData {
  const err = error instanceof Error ? error : new Error(String(error));
  const data: ErrorData = { name: err.name || "Error", message: err.message };
  // Only a thrown Error's own stack: one made here from a thrown string would point at this file.
  if (error instanceof Error && typeof err.stack === "string") data.stack = err.stack.slice(0, MAX_STACK);
  return data;
}

export function isEmpty(record: object): boolean {
  for (const _ in record) return false;
  return true;
}

/**
 * Calls the step function on a later microtask; with a step timeout, the attempt fails with a
 * {@link StepTimeoutError} once it passes, and its signal (made by `signal`) aborts with it. The
 * journal's `aroundStep`, when it has one, wraps the call.
 */
export function callStep(
  step: StepDeclaration,
  ctx: Parameters<StepDeclaration["fn"]>[0],
  exec: Execution,
  clock: Clock,
  signal: () => AbortSignal,
  journal: RunJournal | null = null,
): Promise<unknown> {
  // Inline closures: under tsx a named one costs an esbuild `__name` call each time it is made.
  const around = journal?.aroundStep ? journal : null;
  const work = Promise.resolve().then(
    around
      ? () => around.aroundStep?.(exec.item, () => step.fn(ctx, exec.item.event))
      : () => step.fn(ctx, exec.item.event),
  );
  if (step.timeout === null) return work;
  const seconds = step.timeout;
  return Promise.race([
    work,
    new Promise<never>((_, reject) => {
      exec.timer = clock.setTimeout(() => {
        const error = new StepTimeoutError(step.name, seconds);
        signal();
        exec.controller?.abort(error);
        reject(error);
      }, seconds * 1000);
    }),
  ]);
}

/** The events a step returned, checked: each declared in its emits and not too large (else throws). */
export function checkedOutputs(
  step: StepDeclaration,
  result: unknown,
  maxEventBytes: number | null,
): WorkflowEvent[] {
  const outputs = normalizeOutputs(result);
  for (const ev of outputs) checkEmits(step, step.name, ev, "returned");
  for (const ev of outputs) checkSize(ev, maxEventBytes, step.name);
  return outputs;
}
