import { jsonBytes, utf8Length } from "../../core/json-size.js";
import type { IdempotencyRecord } from "../idempotency.js";
import { errorChars } from "../limits.js";
import { type HandlerRecord, type InboxItem, inboxItemJson, type ListHandlersQuery } from "../store.js";

/** Exactly the fields of a record, with missing nullable ones as null, as a durable store keeps them. */
export function normalizeRecord(record: HandlerRecord): HandlerRecord {
  return {
    handlerId: record.handlerId,
    workflowName: record.workflowName,
    runId: record.runId,
    status: record.status,
    result: record.result ?? null,
    error: record.error ?? null,
    startedAt: record.startedAt,
    updatedAt: record.updatedAt,
    completedAt: record.completedAt ?? null,
    resumeAttempts: record.resumeAttempts ?? 0,
    workflowVersion: record.workflowVersion ?? null,
    blocked: record.blocked
      ? { code: record.blocked.code, detail: record.blocked.detail, since: record.blocked.since }
      : null,
    wakeAt: record.wakeAt ?? null,
    parentHandlerId: record.parentHandlerId ?? null,
    scheduleId: record.scheduleId ?? null,
    limitKey: record.limitKey ?? null,
    queued: record.queued ?? false,
  };
}

/** The record without its result when that is larger than `max` bytes of JSON (a listing's cap). */
function withResultCap(record: HandlerRecord, max: number | undefined): HandlerRecord {
  if (max === undefined || record.result === null || jsonBytes(record.result) <= max) return record;
  return { ...record, result: null, resultTruncated: true };
}

/** A record as a listing gives it: its result and its error capped (ListHandlersQuery). */
export function listedRecord(
  record: HandlerRecord,
  query: Pick<ListHandlersQuery, "maxResultBytes" | "maxErrorBytes">,
): HandlerRecord {
  return withErrorCap(withResultCap(record, query.maxResultBytes), query.maxErrorBytes);
}

/** A listed record whose error text is over `max` bytes: cut to its first characters. */
function withErrorCap(record: HandlerRecord, max: number | undefined): HandlerRecord {
  if (max === undefined || record.error === null || utf8Length(record.error) <= max) return record;
  const error = Array.from(record.error).slice(0, errorChars(max)).join("");
  return { ...record, error, errorTruncated: true };
}

/** Exactly the fields of an idempotency record. */
export function keyRecord(r: IdempotencyRecord): IdempotencyRecord {
  return {
    key: r.key,
    fingerprint: r.fingerprint,
    handlerId: r.handlerId ?? null,
    runId: r.runId ?? null,
    status: r.status ?? null,
    body: r.body ?? null,
    createdAt: r.createdAt,
  };
}

/** An inbox item as the memory store keeps it: its id and its JSON text. */
export const inboxEntry = (item: InboxItem): { id: string; json: string } => ({
  id: item.id,
  json: inboxItemJson(item),
});
/** Compares by code point, which is the byte order of UTF-8 that SQL databases sort text by. */
export function compareText(a: string, b: string): number {
  if (a === b) return 0;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.codePointAt(i) ?? 0;
    const y = b.codePointAt(i) ?? 0;
    if (x !== y) return x < y ? -1 : 1;
  }
  return a.length < b.length ? -1 : 1;
}

/** Positive when (startedAt, handlerId) `a` is newer than `b`, i.e. comes before it in a listing. */
export function compareNewestFirst(aStartedAt: string, aId: string, bStartedAt: string, bId: string): number {
  return compareText(aStartedAt, bStartedAt) || compareText(aId, bId);
}
