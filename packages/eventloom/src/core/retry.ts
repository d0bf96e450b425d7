/**
 * How a step retries a failed attempt. Delays are in seconds.
 *
 * @example
 * .step("fetch", { accepts: [StartEvent], emits: [StopEvent], retry: { maxAttempts: 3, delay: 1, backoff: 2 } }, fn)
 */
export interface RetryPolicy {
  /** Attempts in all, counting the first. */
  maxAttempts: number;
  /** Seconds before the second attempt. */
  delay: number;
  /** Multiplier applied to the delay after each attempt (exponential backoff); 1 = fixed delay. */
  backoff?: number;
  /** Upper bound of a delay, in seconds. */
  maxDelay?: number;
  /** Random spread as a fraction of the delay (0.1 = ±10%). */
  jitter?: number;
  /** Decides which errors are retried; all are, when missing. */
  retryOn?: (error: unknown) => boolean;
}

/** Retries up to `maxAttempts` in all, waiting `delay` seconds between attempts. */
export const constantDelay = (maxAttempts: number, delay: number): RetryPolicy => ({ maxAttempts, delay });

/** Retries with delays of `delay`, `delay*backoff`, … capped at `maxDelay`. */
export const exponentialBackoff = (options: {
  maxAttempts: number;
  delay: number;
  backoff?: number;
  maxDelay?: number;
  jitter?: number;
}): RetryPolicy => ({ backoff: 2, ...options });

/** Milliseconds to wait before attempt `nextAttempt` (2 for the first retry). */
export function retryDelayMs(policy: RetryPolicy, nextAttempt: number, random: () => number): number {
  const base = policy.delay * (policy.backoff ?? 1) ** Math.max(0, nextAttempt - 2);
  const capped = policy.maxDelay === undefined ? base : Math.min(base, policy.maxDelay);
  const spread = policy.jitter ? capped * policy.jitter * (random() * 2 - 1) : 0;
  return Math.max(0, (capped + spread) * 1000);
}

/** Checks a policy when a step is declared; returns a problem or null. */
export function retryPolicyProblem(policy: RetryPolicy): string | null {
  if (!Number.isInteger(policy.maxAttempts) || policy.maxAttempts < 1)
    return "retry.maxAttempts must be an integer >= 1";
  if (!(policy.delay >= 0)) return "retry.delay must be >= 0";
  if (policy.backoff !== undefined && !(policy.backoff >= 1)) return "retry.backoff must be >= 1";
  if (policy.maxDelay !== undefined && !(policy.maxDelay >= 0)) return "retry.maxDelay must be >= 0";
  if (policy.jitter !== undefined && !(policy.jitter >= 0 && policy.jitter <= 1))
    return "retry.jitter must be in [0, 1]";
  return null;
}
