import { WorkflowClientError, WorkflowNetworkError } from "./errors.js";
import { delay } from "./transport.js";

/** How the client retries a mutating call (run, run-nowait, sendEvent, cancel). */
export interface RetryPolicy {
  /** Retries after the first attempt. */
  retries: number;
  /** The first retry's wait; each next one doubles it (a `Retry-After` answer sets it instead). */
  baseDelayMs: number;
  /** The longest wait between two attempts. */
  maxDelayMs: number;
}

/** A new Idempotency-Key: 128 random bits as 32 hex characters (`crypto.getRandomValues`: any runtime). */
export function newIdempotencyKey(): string {
  const bytes = new Uint8Array(16);
  globalThis.crypto.getRandomValues(bytes);
  let key = "";
  for (const b of bytes) key += b.toString(16).padStart(2, "0");
  return key;
}

/**
 * Runs `attempt` until it answers, retrying what a retry with the same key can fix: the server
 * could not be reached or the connection failed before the answer (`WorkflowNetworkError`), 502,
 * 503 and 504, and 409 `IDEMPOTENCY_KEY_IN_USE`. Other errors, a timeout and an abort end it.
 */
export async function withRetries<T>(
  policy: RetryPolicy,
  signal: AbortSignal | undefined,
  attempt: () => Promise<T>,
): Promise<T> {
  for (let n = 0; ; n++) {
    try {
      return await attempt();
    } catch (error) {
      const wait = retryDelay(error, n, policy);
      if (wait === null || n >= policy.retries || signal?.aborted) throw error;
      await delay(wait, signal);
    }
  }
}

function retryDelay(error: unknown, n: number, policy: RetryPolicy): number | null {
  const backoff = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** n);
  if (error instanceof WorkflowNetworkError) return backoff;
  if (!(error instanceof WorkflowClientError)) return null;
  const retryable =
    error.status === 502 ||
    error.status === 503 ||
    error.status === 504 ||
    (error.status === 409 && error.code === "IDEMPOTENCY_KEY_IN_USE");
  if (!retryable) return null;
  const after = error.retryAfterMs;
  return after === undefined ? backoff : Math.min(policy.maxDelayMs, after);
}
