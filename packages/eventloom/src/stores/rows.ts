import type { BlockedInfo } from "../protocol/codec.js";
import type { IdempotencyRecord } from "./idempotency.js";
import type { HandlerRecord } from "./store.js";

/** A row of `handlers` as both SQL stores read it (a listing adds `result_truncated`, `error_truncated`). */
export interface HandlerRowColumns {
  handler_id: string;
  workflow_name: string;
  run_id: string;
  status: string;
  result: string;
  error: string | null;
  started_at: string;
  updated_at: string;
  completed_at: string | null;
  resume_attempts: number;
  workflow_version: string | null;
  blocked: string | null;
  result_truncated?: unknown;
  error_truncated?: unknown;
  wake_at?: number | string | null;
  parent_handler_id?: string | null;
  schedule_id?: string | null;
  limit_key?: string | null;
  queued?: number | boolean | null;
}

/** A row of `idempotency_keys`. */
export interface KeyRow {
  key: string;
  fingerprint: string;
  handler_id: string | null;
  run_id: string | null;
  status: number | null;
  body: string | null;
  created_at: string;
}

export function toRecord(row: HandlerRowColumns): HandlerRecord {
  const record: HandlerRecord = {
    handlerId: row.handler_id,
    workflowName: row.workflow_name,
    runId: row.run_id,
    status: row.status as HandlerRecord["status"],
    result: JSON.parse(row.result) as unknown,
    error: row.error,
    startedAt: row.started_at,
    updatedAt: row.updated_at,
    completedAt: row.completed_at,
    resumeAttempts: row.resume_attempts,
    workflowVersion: row.workflow_version,
    blocked: row.blocked === null ? null : (JSON.parse(row.blocked) as BlockedInfo),
  };
  if (row.result_truncated) record.resultTruncated = true;
  if (row.error_truncated) record.errorTruncated = true;
  return withRunLinks(record, row);
}

/** The columns of migration 5 (SQLite) / 7 (Postgres): timers, parents, schedules, limits. */
function withRunLinks(record: HandlerRecord, row: HandlerRowColumns): HandlerRecord {
  record.wakeAt = row.wake_at == null ? null : Number(row.wake_at);
  record.parentHandlerId = row.parent_handler_id ?? null;
  record.scheduleId = row.schedule_id ?? null;
  record.limitKey = row.limit_key ?? null;
  record.queued = Boolean(row.queued);
  return record;
}

export const toKeyRecord = (row: KeyRow): IdempotencyRecord => ({
  key: row.key,
  fingerprint: row.fingerprint,
  handlerId: row.handler_id,
  runId: row.run_id,
  status: row.status,
  body: row.body,
  createdAt: row.created_at,
});

/** The `blocked` column's JSON of a record: its three fields only, or null. */
export function blockedJson(blocked: BlockedInfo | null | undefined): string | null {
  if (!blocked) return null;
  return JSON.stringify({ code: blocked.code, detail: blocked.detail, since: blocked.since });
}
