import type { BlockedInfo } from "../../protocol/codec.js";
import type { IdempotencyRecord } from "../idempotency.js";
import type { Lease } from "../leases.js";
import type { HandlerRecord } from "../store.js";
import type { HandlerRow, KeyRow, LeaseRow } from "./statements.js";

export const toKeyRecord = (row: KeyRow): IdempotencyRecord => ({
  key: row.key,
  fingerprint: row.fingerprint,
  handlerId: row.handler_id,
  runId: row.run_id,
  status: row.status,
  body: row.body,
  createdAt: row.created_at,
});

export function toRecord(row: HandlerRow): HandlerRecord {
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
  return record;
}

/** The `blocked` column's JSON of a record: its three fields only, or null. */
export function blockedJson(blocked: BlockedInfo | null | undefined): string | null {
  if (!blocked) return null;
  return JSON.stringify({ code: blocked.code, detail: blocked.detail, since: blocked.since });
}

export function toLease(row: LeaseRow): Lease {
  return { handlerId: row.handler_id, owner: row.owner, token: Number(row.token), expiresAt: row.expires_at };
}

export function checkLeaseArgs(owner: string, ttlMs: number): void {
  if (typeof owner !== "string" || owner.length === 0)
    throw new TypeError("owner must be a non-empty string");
  if (!Number.isFinite(ttlMs) || ttlMs < 0)
    throw new RangeError(`ttlMs must be a non-negative number, got ${ttlMs}`);
}
