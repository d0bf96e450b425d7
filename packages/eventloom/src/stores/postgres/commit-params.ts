import { IdempotencyKeyConflictError, type IdempotencyRecord } from "../idempotency.js";
import type { Fence, FencedCommitBatch } from "../leases.js";
import { checkSequence } from "../limits.js";
import { changedHandlerIds } from "../listeners.js";
import { type CommitBatch, inboxItemJson, type KeyAnswer, SequenceConflictError } from "../store.js";
import { noticePayloads } from "./change-feed.js";
import { blockedJson } from "./rows.js";

/**
 * Checks a batch and lays it out as the parameters of the commit statement (see statements.ts):
 * one array per column, rows sorted by key so that concurrent batches lock shared rows in the same
 * order. A handler or state given twice keeps the last one. Throws, before anything is written,
 * on a bad or repeated sequence or a value JSON cannot represent.
 */
export function commitParams(batch: FencedCommitBatch, channel: string, origin: string): unknown[] {
  const handlers = sortById([...new Map((batch.handlers ?? []).map((h) => [h.handlerId, h])).values()]);
  const events: { handlerId: string; sequence: number; json: string }[] = [];
  const claimed = new Set<string>();
  for (const group of batch.events ?? []) {
    for (const event of group.events) {
      checkSequence(group.handlerId, event.sequence);
      const key = `${event.sequence}:${group.handlerId}`;
      if (claimed.has(key)) throw new SequenceConflictError(group.handlerId, event.sequence);
      claimed.add(key);
      events.push({ handlerId: group.handlerId, sequence: event.sequence, json: event.json });
    }
  }
  events.sort((a, b) => compareIds(a.handlerId, b.handlerId) || a.sequence - b.sequence);
  const states = sortById([...new Map((batch.states ?? []).map((s) => [s.handlerId, s])).values()]);
  const done = (batch.inboxDone ?? []).flatMap((d) => d.ids.map((id) => ({ handlerId: d.handlerId, id })));
  const changed = [...changedHandlerIds(batch)].sort(compareIds);
  return [
    handlers.map((h) => h.handlerId),
    handlers.map((h) => h.workflowName),
    handlers.map((h) => h.runId),
    handlers.map((h) => h.status),
    handlers.map((h) => JSON.stringify(h.result ?? null)),
    handlers.map((h) => h.error ?? null),
    handlers.map((h) => h.startedAt),
    handlers.map((h) => h.updatedAt),
    handlers.map((h) => h.completedAt ?? null),
    events.map((e) => e.handlerId),
    events.map((e) => String(e.sequence)),
    events.map((e) => e.json),
    states.map((s) => s.handlerId),
    states.map((s) => s.json),
    done.map((d) => d.handlerId),
    done.map((d) => d.id),
    changed,
    channel,
    noticePayloads(origin, changed),
    handlers.map((h) => h.resumeAttempts ?? 0),
    handlers.map((h) => h.workflowVersion ?? null),
    handlers.map((h) => blockedJson(h.blocked)),
    ...keyColumns(batch.keys ?? []),
    ...answerColumns(batch.keyAnswers ?? []),
    ...fenceColumns(batch.fence),
    idleColumn(handlers, states),
    // $39..$43: timers, parents, schedules, limits (migration 7)
    handlers.map((h) => (h.wakeAt == null ? null : String(h.wakeAt))),
    handlers.map((h) => h.parentHandlerId ?? null),
    handlers.map((h) => h.scheduleId ?? null),
    handlers.map((h) => h.limitKey ?? null),
    handlers.map((h) => h.queued ?? false),
    // $44..$45: start events (migration 8)
    ...startEventColumns(batch.startEvents ?? []),
    // $46..$48: items for other handlers' inboxes (a child's end for its parent)
    ...inboxAddColumns(batch.inboxAdd ?? []),
    // $49: the lease lifetime of each fence that claims a new handler (null for the others)
    claimColumn(batch.fence),
  ];
}

/** Each handler's start event, the last one given (parameters $44..$45). */
function startEventColumns(starts: NonNullable<CommitBatch["startEvents"]>): unknown[] {
  const last = sortById([...new Map(starts.map((s) => [s.handlerId, s])).values()]);
  return [last.map((s) => s.handlerId), last.map((s) => s.json)];
}

/** The items of `CommitBatch.inboxAdd`, one array per column, sorted by handler and id. */
function inboxAddColumns(adds: NonNullable<CommitBatch["inboxAdd"]>): unknown[][] {
  const rows = adds
    .map((a) => ({ handlerId: a.handlerId, id: a.item.id, json: inboxItemJson(a.item) }))
    .sort((a, b) => compareIds(a.handlerId, b.handlerId) || compareIds(a.id, b.id));
  return [rows.map((r) => r.handlerId), rows.map((r) => r.id), rows.map((r) => r.json)];
}

/**
 * The fences, one array per column (parameters $34..$36), and whether the batch is fenced at all
 * ($37: a writer that holds leases passes `fence`, even empty, and then every handler it writes must
 * carry one).
 */
function fenceColumns(fence: readonly Fence[] | undefined): unknown[] {
  const fences = dedupeFences(fence ?? []);
  return [
    fences.map((f) => f.handlerId),
    fences.map((f) => f.owner),
    fences.map((f) => String(f.token)),
    fence !== undefined,
  ];
}

/** Per fence, in the order of {@link fenceColumns}: the lifetime of the lease it claims, else null. */
function claimColumn(fence: readonly Fence[] | undefined): (string | null)[] {
  return dedupeFences(fence ?? []).map((f) => (f.claimTtlMs === undefined ? null : String(f.claimTtlMs)));
}

/** The columns of idempotency records, one array each (parameters $23..$29 of the commit). */
function keyColumns(keys: readonly IdempotencyRecord[]): unknown[][] {
  const seen = new Set<string>();
  for (const k of keys) {
    if (seen.has(k.key)) throw new IdempotencyKeyConflictError(k.key, k.handlerId);
    seen.add(k.key);
  }
  return [
    keys.map((k) => k.key),
    keys.map((k) => k.fingerprint),
    keys.map((k) => k.handlerId ?? null),
    keys.map((k) => k.runId ?? null),
    keys.map((k) => k.status ?? null),
    keys.map((k) => k.body ?? null),
    keys.map((k) => k.createdAt),
  ];
}

/** The answers of pending keys, one array per column (parameters $30..$33 of the commit). */
function answerColumns(answers: readonly KeyAnswer[]): unknown[][] {
  return [
    answers.map((a) => a.key),
    answers.map((a) => a.fingerprint),
    answers.map((a) => a.status),
    answers.map((a) => a.body),
  ];
}

/** One key's columns as single parameters (appendInbox, deleteHandler); all null without a key. */
export function keyParams(key: IdempotencyRecord | undefined): unknown[] {
  if (!key) return [null, null, null, null, null, null, null];
  return [key.key, key.fingerprint, key.handlerId, key.runId, key.status, key.body, key.createdAt];
}

/** True when the batch writes nothing (fences alone write nothing either). */
export function isEmpty(batch: CommitBatch): boolean {
  return (
    !batch.handlers?.length &&
    !batch.events?.some((g) => g.events.length > 0) &&
    !batch.states?.length &&
    !batch.inboxDone?.some((d) => d.ids.length > 0) &&
    !batch.inboxAdd?.length &&
    !batch.keys?.length &&
    !batch.keyAnswers?.length
  );
}

export function fenceKey(f: Fence): string {
  return JSON.stringify([f.handlerId, f.owner, f.token]);
}

/** Each fence once, sorted by handler id. */
export function dedupeFences(fences: readonly Fence[]): Fence[] {
  const seen = new Map<string, Fence>();
  for (const f of fences) seen.set(fenceKey(f), f);
  return [...seen.values()].sort((a, b) => compareIds(a.handlerId, b.handlerId));
}

/**
 * handlers.idle_until for each handler row (parameter $38): from its state in the batch; -1 (keep
 * what is stored) when the batch holds no state for it or says nothing.
 */
function idleColumn(
  handlers: readonly { handlerId: string }[],
  states: readonly { handlerId: string; idleUntil?: number | null }[],
): (string | null)[] {
  const byId = new Map(states.map((s) => [s.handlerId, s.idleUntil]));
  return handlers.map((h) => {
    const at = byId.get(h.handlerId);
    return at === undefined ? "-1" : at === null ? null : String(Math.min(at, Number.MAX_SAFE_INTEGER));
  });
}

function sortById<T extends { handlerId: string }>(items: T[]): T[] {
  return items.sort((a, b) => compareIds(a.handlerId, b.handlerId));
}

/** Any fixed total order will do: concurrent batches then lock the rows they share in the same order. */
function compareIds(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
