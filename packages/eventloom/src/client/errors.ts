import type { ValidationIssue } from "../core/errors.js";

export interface WorkflowClientErrorInit {
  status: number;
  code: string;
  detail: string;
  issues?: ValidationIssue[] | undefined;
  cause?: unknown;
  handlerId?: string | undefined;
  retryAfterMs?: number | undefined;
}

/**
 * Thrown when the server answers with an error status (its `{ detail, code, issues? }` body is
 * carried here), or when an answer does not fit the HTTP contract (`code` "INVALID_RESPONSE").
 *
 * `code` is the server's stable identifier, e.g. "HANDLER_NOT_FOUND", "VALIDATION_ERROR"; an answer
 * without a JSON error body gets `HTTP_<status>`.
 */
export class WorkflowClientError extends Error {
  readonly status: number;
  readonly code: string;
  readonly detail: string;
  readonly issues: ValidationIssue[] | undefined;
  /** The handler a failed `run`/`run-nowait` may have created (the server names it in its 5xx). */
  readonly handlerId: string | undefined;
  /** How long the server asked to wait before trying again (`Retry-After`), when it did. */
  readonly retryAfterMs: number | undefined;
  /** The failed mutating call's `Idempotency-Key`: send the call again with it to have it run once. */
  readonly idempotencyKey: string | undefined = undefined;

  constructor(init: WorkflowClientErrorInit) {
    super(
      `${init.detail} (${init.code}, HTTP ${init.status})`,
      init.cause === undefined ? undefined : { cause: init.cause },
    );
    this.name = "WorkflowClientError";
    this.status = init.status;
    this.code = init.code;
    this.detail = init.detail;
    this.issues = init.issues;
    this.handlerId = init.handlerId;
    this.retryAfterMs = init.retryAfterMs;
  }
}

/**
 * Thrown when the server could not be reached or the connection failed before an answer arrived
 * (refused, reset, DNS). `cause` is the underlying `fetch` error. An event stream reconnects on its
 * own and throws this only after its reconnection attempts ran out.
 */
export class WorkflowNetworkError extends Error {
  readonly url: string;
  /** The failed mutating call's `Idempotency-Key`: send the call again with it to have it run once. */
  readonly idempotencyKey: string | undefined = undefined;

  constructor(url: string, cause: unknown) {
    const reason = cause instanceof Error ? `: ${cause.message}` : "";
    super(`Could not reach ${url}${reason}`, { cause });
    this.name = "WorkflowNetworkError";
    this.url = url;
  }
}

/**
 * Thrown when a request took longer than the client's `timeoutMs` (for an event stream: until the
 * server started answering). Named apart from the engine's `WorkflowTimeoutError`, which is a run's
 * timeout, not a request's.
 */
export class ClientTimeoutError extends Error {
  readonly url: string;
  readonly timeoutMs: number;
  /**
   * The timed-out mutating call's `Idempotency-Key`. The server may still be executing the call:
   * send it again with this key (`idempotencyKey` option) to get its answer without running it twice.
   */
  readonly idempotencyKey: string | undefined = undefined;

  constructor(url: string, timeoutMs: number) {
    super(`No answer from ${url} within ${timeoutMs} ms`);
    this.name = "ClientTimeoutError";
    this.url = url;
    this.timeoutMs = timeoutMs;
  }
}

/**
 * `error` with `key` as its `idempotencyKey` when it is one of the client's errors: what a mutating
 * call that failed throws, so that its caller can send the same call again under the same key.
 */
export function withIdempotencyKey(error: unknown, key: string | undefined): unknown {
  const ours =
    error instanceof WorkflowClientError ||
    error instanceof WorkflowNetworkError ||
    error instanceof ClientTimeoutError;
  if (ours && key !== undefined) (error as { idempotencyKey: string | undefined }).idempotencyKey = key;
  return error;
}
