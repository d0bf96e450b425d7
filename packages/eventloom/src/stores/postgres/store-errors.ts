import { WorkflowError } from "../../core/index.js";

const NETWORK_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ECONNABORTED",
  "EPIPE",
  "ETIMEDOUT",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ENETDOWN",
]);

// SQLSTATEs that mean "the database is not there right now", not "your query is wrong".
const UNAVAILABLE_SQLSTATES = new Set([
  "57P01", // admin_shutdown: the server is stopping, or our backend was terminated
  "57P02", // crash_shutdown
  "57P03", // cannot_connect_now: starting up or in recovery
  "53300", // too_many_connections
  "53100", // disk_full
  "58030", // io_error
]);

// Worth a retry, not a bug of the request, on a connection that is fine: answered 503 with
// Retry-After, never 500.
const TRANSIENT_SQLSTATES = new Set([
  "40P01", // deadlock_detected
  "40001", // serialization_failure
  "55P03", // lock_not_available: lock_timeout
  "57014", // query_canceled: statement_timeout
]);

/** SQLSTATEs after which the same statement, run again at once, may well succeed. */
const RETRYABLE_SQLSTATES = new Set(["40P01", "40001"]);

/** True when `error` is a deadlock or serialization failure: the statement can simply run again. */
export function isRetryable(error: unknown): boolean {
  return RETRYABLE_SQLSTATES.has((error as { code?: unknown } | null)?.code as string);
}

/** True when `error` says the database could not be reached or the connection was lost. */
export function isConnectionError(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = (error as { code?: unknown }).code;
  if (typeof code === "string") {
    if (NETWORK_CODES.has(code) || UNAVAILABLE_SQLSTATES.has(code)) return true;
    if (code.startsWith("08")) return true; // connection_exception class
  }
  // node-postgres reports a dropped socket and a pool timeout with plain messages.
  return /Connection terminated|connection error|not queryable|timeout exceeded when trying to connect|Connection ended|terminating connection|Query read timeout/i.test(
    error.message,
  );
}

/** Wraps connection failures as `STORE_UNAVAILABLE` (the server answers 503); anything else passes through. */
export function toStoreError(error: unknown): unknown {
  if (error instanceof WorkflowError) return error;
  if (
    isConnectionError(error) ||
    TRANSIENT_SQLSTATES.has((error as { code?: unknown } | null)?.code as string)
  ) {
    const reason = error instanceof Error ? error.message : String(error);
    return new WorkflowError("STORE_UNAVAILABLE", `The Postgres store is unavailable: ${reason}`, {
      cause: error,
    });
  }
  return error;
}

/** `promise`, or a rejection with STORE_UNAVAILABLE when it has not settled within `ms`. */
export async function answeredWithin<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(new WorkflowError("STORE_UNAVAILABLE", `The Postgres store did not answer within ${ms} ms`)),
      ms,
    );
  });
  try {
    return await Promise.race([promise, late]);
  } finally {
    clearTimeout(timer);
  }
}
