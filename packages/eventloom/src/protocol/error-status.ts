import { type ErrorCode, type ValidationIssue, WorkflowError } from "../core/errors.js";
import type { ErrorBody } from "./wire.js";

/** The one table from every error code to the HTTP status it is answered with. */
export const ERROR_STATUS = {
  VALIDATION_ERROR: 400,
  // a workflow that fails its own validation is the server's misconfiguration, not the client's
  INVALID_WORKFLOW: 500,
  INVALID_CONTEXT: 400,
  UNKNOWN_EVENT: 400,
  UNKNOWN_STEP: 400,
  STEP_REJECTS_EVENT: 400,
  STEP_FAILED: 500,
  STEP_TIMED_OUT: 500,
  WAIT_TIMED_OUT: 500,
  WORKFLOW_TIMED_OUT: 500,
  WORKFLOW_CANCELLED: 500,
  HANDLER_ENDED: 409,
  // Never an answer's code: the error of a step that made an event larger than maxEventBytes.
  EVENT_TOO_LARGE: 500,
  // Never an answer's code: the error of a run the server stopped resuming (see RELIABILITY.md).
  RESUME_CRASH_LOOP: 500,
  INVALID_JSON: 400,
  INVALID_BODY: 400,
  INVALID_QUERY: 400,
  INVALID_HEADER: 400,
  INVALID_HANDLER_ID: 400,
  INVALID_CURSOR: 400,
  FORBIDDEN_KEY: 400,
  CONTEXT_NOT_ACCEPTED: 400,
  EVENT_NOT_ACCEPTED_FROM_OUTSIDE: 400,
  INVALID_IDEMPOTENCY_KEY: 400,
  // the key came with another request (method, path or body) before
  IDEMPOTENCY_KEY_REUSED: 422,
  // the request that first came with the key is still being executed
  IDEMPOTENCY_KEY_IN_USE: 409,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  HOST_NOT_ALLOWED: 403,
  UNAUTHORIZED: 401,
  NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  WORKFLOW_NOT_FOUND: 404,
  HANDLER_NOT_FOUND: 404,
  HANDLER_RUNNING: 409,
  HANDLER_BLOCKED: 409,
  // a re-run of a handler whose start event the store did not keep (started before it kept them)
  START_EVENT_NOT_KEPT: 409,
  // a fork's from_sequence names no stored event that a step of the workflow accepts
  INVALID_FORK_POINT: 400,
  STORE_UNAVAILABLE: 503,
  // another process has the SQLite file: this one must not serve from it (it never starts)
  STORE_IN_USE: 503,
  SEQUENCE_CONFLICT: 409,
  LEASE_LOST: 409,
  SERVER_CLOSING: 503,
  INTERNAL_ERROR: 500,
} as const satisfies Record<ErrorCode, number>;

/** Every error code, in the table's order. */
export const ERROR_CODES = Object.keys(ERROR_STATUS) as ErrorCode[];

/** True when `code` is one of the package's error codes. */
export const isErrorCode = (code: unknown): code is ErrorCode =>
  typeof code === "string" && Object.hasOwn(ERROR_STATUS, code);

/** The HTTP status of an error code. */
export const statusOfCode = (code: ErrorCode): number => ERROR_STATUS[code];

interface CodedError {
  code: ErrorCode;
  message: string;
  issues?: ValidationIssue[] | undefined;
}

// Errors that carry a known code without extending WorkflowError (the stores' InvalidCursorError).
function asCoded(error: unknown): CodedError | null {
  if (error instanceof WorkflowError) return error;
  if (error instanceof Error) {
    const code: unknown = (error as Error & { code?: unknown }).code;
    if (isErrorCode(code)) return { code, message: error.message };
  }
  return null;
}

/** The HTTP status to answer `error` with: its code's status, or 500 for anything unknown. */
export function statusOf(error: unknown): number {
  const coded = asCoded(error);
  return coded ? ERROR_STATUS[coded.code] : 500;
}

/**
 * The wire body of an error: `{ detail, code, issues? }`. Errors without a known code become
 * `INTERNAL_ERROR` with a generic detail, so that internals never leak to clients.
 */
export function errorBody(error: unknown): ErrorBody {
  const coded = asCoded(error);
  if (!coded) return { detail: "Internal server error", code: "INTERNAL_ERROR" };
  const detail = coded.code === "INTERNAL_ERROR" ? "Internal server error" : coded.message;
  return coded.issues && coded.issues.length > 0
    ? { detail, code: coded.code, issues: coded.issues }
    : { detail, code: coded.code };
}
