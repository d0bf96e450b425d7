/**
 * What a store keeps of one `Idempotency-Key`: the request it first came with (a fingerprint of its
 * method, path, query and body) and the answer that request got, so that a retry with the key gets
 * the same answer and executes nothing.
 *
 * A record is written in the same transaction as the change it answers for (a handler's first
 * commit, an event taken into a run, a cancellation): either both are stored or neither, whatever
 * happens to the process in between.
 */
export interface IdempotencyRecord {
  key: string;
  /** Opaque digest of the first request's method, path, query and body. */
  fingerprint: string;
  /** The handler the request created or addressed, when there is one. */
  handlerId: string | null;
  /** The run a `run` request started: its end is the answer while `status` is null. */
  runId: string | null;
  /** The answer's HTTP status; null while it is the outcome of run `runId`, still to come. */
  status: number | null;
  /** The answer's body as JSON text; null while `status` is. */
  body: string | null;
  /** ISO 8601 UTC with milliseconds: when the key was first used (it is forgotten after the TTL). */
  createdAt: string;
}

/**
 * Thrown by a write that carries an {@link IdempotencyRecord} whose key is already stored: nothing
 * of the write was stored. Another request with the same key got there first; read its record.
 */
export class IdempotencyKeyConflictError extends Error {
  readonly code = "IDEMPOTENCY_KEY_CONFLICT";
  readonly key: string;
  /** The handler whose write carried the record (the commit writer drops that handler's changes). */
  readonly handlerId: string | null;
  constructor(key: string, handlerId: string | null, options: { cause?: unknown } = {}) {
    super(`Idempotency key "${key}" is already stored`, options);
    this.name = "IdempotencyKeyConflictError";
    this.key = key;
    this.handlerId = handlerId;
  }
}

/** True for an {@link IdempotencyKeyConflictError}, or an error caused by one (at any depth). */
export function isKeyConflict(error: unknown): boolean {
  for (let e = error, depth = 0; e !== null && e !== undefined && depth < 8; depth++) {
    if ((e as { code?: unknown }).code === "IDEMPOTENCY_KEY_CONFLICT") return true;
    e = (e as { cause?: unknown }).cause;
  }
  return false;
}
