import type pg from "pg";
import { IdempotencyKeyConflictError, type IdempotencyRecord } from "../idempotency.js";
import { type FencedCommitBatch, LeaseLostError } from "../leases.js";
import { SequenceConflictError } from "../store.js";
import type { Statements } from "./statements.js";
import { toStoreError } from "./store-errors.js";

// What a failed commit (or inbox append, or deletion) means, named for the writer.

export const UNIQUE_VIOLATION = "23505";
/** The primary key of idempotency_keys: a key already stored. */
const KEY_TAKEN = "idempotency_keys_pkey";
/** The SQLSTATE refuse_commit() raises (migration 6). */
const COMMIT_REFUSED = "EL409";

type Run = <R extends pg.QueryResultRow>(text: string, values: unknown[]) => Promise<pg.QueryResult<R>>;

export const isKeyTaken = (error: unknown): boolean => {
  const e = error as { code?: unknown; constraint?: unknown };
  return e.code === UNIQUE_VIOLATION && e.constraint === KEY_TAKEN;
};

/** The handlers a commit was refused for (lease lost, or ended under the same run), or null. */
function refusedIds(error: unknown): string[] | null {
  const e = error as { code?: unknown; detail?: unknown };
  if (e?.code !== COMMIT_REFUSED || typeof e.detail !== "string") return null;
  try {
    const ids = JSON.parse(e.detail) as unknown;
    return Array.isArray(ids) ? ids.map(String) : null;
  } catch {
    return null;
  }
}

/**
 * The error a failed commit rejects with: LEASE_LOST for refused handlers (and for a sequence
 * conflict on a fenced one: someone else wrote it), a named key or sequence conflict, or
 * STORE_UNAVAILABLE for a lost connection.
 */
export async function commitError(
  error: unknown,
  batch: FencedCommitBatch,
  run: Run,
  sql: Statements,
): Promise<unknown> {
  const refused = refusedIds(error);
  if (refused) {
    const ended = (error as Error).message === "HANDLER_ENDED";
    return new LeaseLostError(
      refused,
      ended
        ? `The store holds an end of the same run for handler(s): ${refused.join(", ")}; this process's copy is stale`
        : undefined,
    );
  }
  if (isKeyTaken(error)) return keyConflict(batch.keys ?? [], error, run, sql);
  if ((error as { code?: unknown }).code === UNIQUE_VIOLATION) {
    const conflict = await sequenceConflict(batch, error, run, sql);
    // A fenced handler whose sequences are taken was written by someone else: its lease is void.
    if (batch.fence?.some((f) => f.handlerId === conflict.handlerId))
      return new LeaseLostError([conflict.handlerId]);
    return conflict;
  }
  return toStoreError(error);
}

/** Names the key that was already stored (the batch was rolled back as a whole). */
async function keyConflict(keys: readonly IdempotencyRecord[], cause: unknown, run: Run, sql: Statements) {
  let found = keys.length === 1 ? keys[0] : undefined;
  if (found === undefined) {
    try {
      const { rows } = await run<{ key: string }>(sql.findKeys, [keys.map((k) => k.key)]);
      found = keys.find((k) => k.key === rows[0]?.key);
    } catch {
      // Naming the key is a courtesy: the conflict itself is certain.
    }
  }
  return new IdempotencyKeyConflictError(found?.key ?? "", found?.handlerId ?? null, { cause });
}

/** Names the event that collided with a stored one (the batch was rolled back as a whole). */
async function sequenceConflict(batch: FencedCommitBatch, cause: unknown, run: Run, sql: Statements) {
  const pairs = (batch.events ?? []).flatMap((g) => g.events.map((e) => [g.handlerId, e.sequence] as const));
  let found: { handler_id: string; sequence: string } | undefined;
  if (pairs.length === 1) return new SequenceConflictError(pairs[0]![0], pairs[0]![1], { cause });
  try {
    const { rows } = await run<{ handler_id: string; sequence: string }>(sql.findStoredSequences, [
      pairs.map((p) => p[0]),
      pairs.map((p) => String(p[1])),
    ]);
    found = rows[0];
  } catch {
    // Naming the event is a courtesy: the conflict itself is certain.
  }
  const [handlerId, sequence] = found ? [found.handler_id, Number(found.sequence)] : (pairs[0] ?? ["", -1]);
  return new SequenceConflictError(handlerId, sequence, { cause });
}
