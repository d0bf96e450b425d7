import { WorkflowError } from "../../core/index.js";
import type { IdempotencyRecord } from "../../stores/idempotency.js";
import type { FencedCommitBatch } from "../../stores/leases.js";
import type { EventRow, HandlerRecord, KeyAnswer, Store } from "../../stores/store.js";
import type { KeyWrite } from "../idempotency/key-write.js";
import { childEndNews } from "./child-end.js";

// What the commit writer holds of each handler between two batches (commit-writer.ts).

/** A live run as the writer sees it: something that can describe its current state and record. */
export interface CommitSource {
  readonly handlerId: string;
  /** Called synchronously when the batch is cut, so that state and events are consistent. */
  snapshot(): { stateJson: string; record: HandlerRecord; idleUntil?: number | null };
}

/** A handler's changes waiting for the next batch. */
export interface Pending {
  source: CommitSource;
  events: EventRow[];
  /** Idempotency keys answered by these changes: committed in the same batch. */
  keys: KeyWrite[];
  /** The run's start event to keep (JSON), when these changes began a run. */
  start?: string;
}

/** Why a key's write was dropped when its handler's changes were forgotten (deleted, taken over). */
export const DROPPED = new WorkflowError("HANDLER_NOT_FOUND", "The handler's changes were dropped");

const sameRecord = (a: IdempotencyRecord, b: IdempotencyRecord): boolean =>
  a.fingerprint === b.fingerprint &&
  a.handlerId === b.handlerId &&
  a.runId === b.runId &&
  a.status === b.status &&
  a.createdAt === b.createdAt;

/** Puts a failed batch's entries back in front of what changed since (events and keys first). */
export function requeue(pending: Map<string, Pending>, taken: Map<string, Pending>): void {
  for (const [handlerId, entry] of taken) {
    const later = pending.get(handlerId);
    if (later) {
      later.events = [...entry.events, ...later.events];
      later.keys = [...entry.keys, ...later.keys];
      later.start ??= entry.start;
    } else {
      pending.set(handlerId, entry);
    }
  }
}

/**
 * After a commit that failed may have landed (a connection lost after COMMIT): drops from a
 * handler's pending changes the events the store already holds, and settles the keys it stored
 * (the very records), so that the retry does not write them again.
 */
export async function dropStored(store: Store, entry: Pending | undefined, handlerId: string): Promise<void> {
  if (!entry) return;
  try {
    const last = await store.lastSequence(handlerId);
    entry.events = entry.events.filter((e) => e.sequence > last);
    for (const key of entry.keys) {
      const stored = await store.getIdempotencyKey(key.record.key);
      if (stored !== null && sameRecord(stored, key.record)) key.stored();
    }
    entry.keys = entry.keys.filter((k) => k.state === "pending");
  } catch {
    // The store is still down: the retry will fail and come back here.
  }
}

/** The handler of the batch an error names as its cause (a sequence conflict), or null. */
export function handlerNamedBy(
  error: unknown,
  taken: ReadonlyMap<string, Pending>,
  inboxDone: ReadonlyMap<string, string[]>,
): string | null {
  const id = (error as { handlerId?: unknown } | null)?.handlerId;
  return typeof id === "string" && (taken.has(id) || inboxDone.has(id)) ? id : null;
}

/** The handlers a LEASE_LOST error names, or null for any other error. */
export function leaseLost(error: unknown): readonly string[] | null {
  const e = error as { code?: unknown; handlerIds?: unknown } | null;
  return e?.code === "LEASE_LOST" && Array.isArray(e.handlerIds) ? (e.handlerIds as string[]) : null;
}

/**
 * The batch of the changes `taken` (their runs' snapshots, cut now), the inbox items taken in and the
 * keys' answers, with the keys it writes. A run whose snapshot throws is left out (`broken`).
 */
export function cutBatch(
  taken: ReadonlyMap<string, Pending>,
  inboxDone: ReadonlyMap<string, string[]>,
  answers: KeyAnswer[],
  broken: (handlerId: string, entry: Pending, error: unknown) => void,
): { batch: FencedCommitBatch & Required<Pick<FencedCommitBatch, "handlers" | "events">>; keys: KeyWrite[] } {
  const batch: Required<
    Pick<FencedCommitBatch, "handlers" | "events" | "states" | "inboxDone" | "inboxAdd">
  > &
    FencedCommitBatch = {
    handlers: [],
    events: [],
    states: [],
    inboxDone: [...inboxDone].map(([handlerId, ids]) => ({ handlerId, ids })),
    inboxAdd: [],
  };
  const keys: KeyWrite[] = [];
  const starts: { handlerId: string; json: string }[] = [];
  for (const [handlerId, entry] of taken) {
    try {
      const { stateJson, record, idleUntil } = entry.source.snapshot();
      batch.handlers.push(record);
      // A child's end and its parent's news of it: durable together.
      const news = childEndNews(record);
      if (news) batch.inboxAdd.push(news);
      batch.states.push({ handlerId, json: stateJson, idleUntil: idleUntil ?? null });
      if (entry.events.length > 0) batch.events.push({ handlerId, events: entry.events });
      for (const key of entry.keys) keys.push(key);
      if (entry.start !== undefined) starts.push({ handlerId, json: entry.start });
    } catch (error) {
      broken(handlerId, entry, error);
    }
  }
  if (keys.length > 0) batch.keys = keys.map((k) => k.record);
  if (starts.length > 0) batch.startEvents = starts;
  if (answers.length > 0) batch.keyAnswers = answers;
  return { batch, keys };
}
