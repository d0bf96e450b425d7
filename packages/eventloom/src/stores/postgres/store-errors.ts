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

/** True when `error` says the database could not be reached or the connection was lost. */
export function isConnectionError(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = (error as { code?: unknown }).code;
  if (typeof code === "string") {
    if (NETWORK_CODES.has(code) || UNAVAILABLE_SQLSTATES.has(code)) return true;
    if (code.startsWith("08")) return true; // connection_exception class
  }
  // node-postgres reports a dropped socket and a pool timeout with plain messages.
  return /Connection terminated|connection error|not queryable|timeout exceeded when trying to connect|Connection ended|terminating connection/i.test(
    error.message,
  );
}

/** Wraps connection failures as `STORE_UNAVAILABLE` (the server answers 503); anything else passes through. */
export function toStoreError(error: unknown): unknown {
  if (error instanceof WorkflowError) return error;
  if (isConnectionError(error)) {
    const reason = error instanceof Error ? error.message : String(error);
    return new WorkflowError("STORE_UNAVAILABLE", `The Postgres store is unavailable: ${reason}`, {
      cause: error,
    });
  }
  return error;
}
