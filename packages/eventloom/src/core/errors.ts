/**
 * Every error the package throws is a {@link WorkflowError} with a stable `code`.
 * The table from code to HTTP status lives in `protocol/error-status.ts`.
 */
export type ErrorCode =
  // raised by the engine
  | "VALIDATION_ERROR"
  | "INVALID_WORKFLOW"
  | "INVALID_CONTEXT"
  | "UNKNOWN_EVENT"
  | "UNKNOWN_STEP"
  | "STEP_REJECTS_EVENT"
  | "STEP_FAILED"
  | "STEP_TIMED_OUT"
  | "WAIT_TIMED_OUT"
  | "WORKFLOW_TIMED_OUT"
  | "WORKFLOW_CANCELLED"
  | "HANDLER_ENDED"
  | "EVENT_TOO_LARGE"
  // a run's outcome, set by the server
  | "RESUME_CRASH_LOOP"
  // raised at the HTTP boundary
  | "INVALID_JSON"
  | "INVALID_BODY"
  | "INVALID_QUERY"
  | "INVALID_HEADER"
  | "INVALID_HANDLER_ID"
  | "INVALID_CURSOR"
  | "FORBIDDEN_KEY"
  | "CONTEXT_NOT_ACCEPTED"
  | "EVENT_NOT_ACCEPTED_FROM_OUTSIDE"
  | "INVALID_IDEMPOTENCY_KEY"
  | "IDEMPOTENCY_KEY_REUSED"
  | "IDEMPOTENCY_KEY_IN_USE"
  | "PAYLOAD_TOO_LARGE"
  | "UNSUPPORTED_MEDIA_TYPE"
  | "HOST_NOT_ALLOWED"
  | "UNAUTHORIZED"
  | "NOT_FOUND"
  | "METHOD_NOT_ALLOWED"
  | "WORKFLOW_NOT_FOUND"
  | "HANDLER_NOT_FOUND"
  | "HANDLER_RUNNING"
  | "HANDLER_BLOCKED"
  | "START_EVENT_NOT_KEPT"
  | "INVALID_FORK_POINT"
  | "STORE_UNAVAILABLE"
  | "STORE_IN_USE"
  | "SEQUENCE_CONFLICT"
  | "LEASE_LOST"
  | "SERVER_CLOSING"
  | "INTERNAL_ERROR";

/** One problem with a value, located by a dotted path. */
export interface ValidationIssue {
  path: string;
  message: string;
}

export interface WorkflowErrorOptions {
  cause?: unknown;
  issues?: ValidationIssue[];
}

/** The base of every error this package throws. */
export class WorkflowError extends Error {
  readonly code: ErrorCode;
  readonly issues: ValidationIssue[] | undefined;

  constructor(code: ErrorCode, message: string, options: WorkflowErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.issues = options.issues;
  }
}

interface IssueLike {
  path: readonly PropertyKey[];
  message: string;
}

/** Turns zod issues into the wire's `{ path, message }` form. */
export function toValidationIssues(issues: readonly IssueLike[], prefix = ""): ValidationIssue[] {
  return issues.map((issue) => ({
    path: [prefix, ...issue.path.map(String)].filter((p) => p !== "").join("."),
    message: issue.message,
  }));
}

/** Thrown when an event's data does not fit its schema. */
export class EventValidationError extends WorkflowError {
  readonly eventType: string;
  constructor(eventType: string, issues: readonly IssueLike[], prefix = "") {
    const list = toValidationIssues(issues, prefix);
    const summary = list.map((i) => (i.path ? `${i.path}: ${i.message}` : i.message)).join("; ");
    super("VALIDATION_ERROR", `Invalid ${eventType}: ${summary}`, { issues: list });
    this.eventType = eventType;
  }
}

/** Thrown when a workflow's declaration is inconsistent (names the step and the event). */
export class WorkflowValidationError extends WorkflowError {
  readonly problems: string[];
  constructor(workflowName: string, problems: string[]) {
    super("INVALID_WORKFLOW", `Workflow "${workflowName}" is invalid: ${problems.join("; ")}`);
    this.problems = problems;
  }
}

/** Thrown when a run fails because a step threw after its retries; `cause` is the step's error. */
export class StepFailedError extends WorkflowError {
  readonly stepName: string;
  readonly attempts: number;
  constructor(stepName: string, attempts: number, message: string, cause?: unknown) {
    super("STEP_FAILED", `Step "${stepName}" failed after ${attempts} attempt(s): ${message}`, { cause });
    this.stepName = stepName;
    this.attempts = attempts;
  }
}

/** Thrown inside a step when one attempt ran past the step's `timeout`. */
export class StepTimeoutError extends WorkflowError {
  constructor(stepName: string, seconds: number) {
    super("STEP_TIMED_OUT", `Step "${stepName}" timed out after ${seconds}s`);
  }
}

/**
 * Thrown when a step returns, sends or writes to the stream an event whose JSON is larger than the
 * run's `maxEventBytes`: the step fails with it (never retried), and the event goes nowhere.
 */
export class EventTooLargeError extends WorkflowError {
  readonly eventType: string;
  readonly bytes: number;
  readonly limit: number;
  constructor(stepName: string, eventType: string, bytes: number, limit: number) {
    super(
      "EVENT_TOO_LARGE",
      `EVENT_TOO_LARGE: step "${stepName}" made a ${eventType} of ${bytes} bytes of JSON, more than maxEventBytes (${limit})`,
    );
    this.name = "EventTooLargeError";
    this.eventType = eventType;
    this.bytes = bytes;
    this.limit = limit;
  }
}

/** Thrown by `ctx.waitForEvent` when no matching event arrived in time. */
export class WaitForEventTimeoutError extends WorkflowError {
  constructor(eventType: string, seconds: number) {
    super("WAIT_TIMED_OUT", `No ${eventType} arrived within ${seconds}s`);
  }
}

/** Thrown when a run's timeout passed before it ended. */
export class WorkflowTimeoutError extends WorkflowError {
  readonly timeout: number;
  readonly activeSteps: string[];
  constructor(seconds: number, activeSteps: string[]) {
    super("WORKFLOW_TIMED_OUT", `Workflow timed out after ${seconds}s`);
    this.timeout = seconds;
    this.activeSteps = activeSteps;
  }
}

/** Thrown when a run was cancelled. */
export class WorkflowCancelledError extends WorkflowError {
  constructor() {
    super("WORKFLOW_CANCELLED", "Workflow was cancelled");
  }
}

/** Thrown when a serialized context is malformed or does not fit the workflow. */
export class InvalidContextError extends WorkflowError {
  constructor(message: string, options: WorkflowErrorOptions = {}) {
    super("INVALID_CONTEXT", message, options);
  }
}

/** Thrown when an event is sent into a run that has ended. */
export class RunEndedError extends WorkflowError {
  constructor(status: string) {
    super("HANDLER_ENDED", `The run has already ended (${status})`);
  }
}

/** Thrown when an event is sent to a step that does not exist. */
export class UnknownStepError extends WorkflowError {
  constructor(step: string) {
    super("UNKNOWN_STEP", `Unknown step "${step}"`, {
      issues: [{ path: "step", message: `Unknown step "${step}"` }],
    });
  }
}

/** Thrown when an event is sent to a step that neither accepts it nor waits for it. */
export class StepRejectsEventError extends WorkflowError {
  constructor(step: string, eventType: string) {
    const message = `Step "${step}" does not accept ${eventType}`;
    super("STEP_REJECTS_EVENT", message, { issues: [{ path: "step", message }] });
  }
}
