import type { Lease } from "../leases.js";
import type { LeaseRow } from "./statements.js";

export { blockedJson, toKeyRecord, toRecord } from "../rows.js";

export function toLease(row: LeaseRow): Lease {
  return { handlerId: row.handler_id, owner: row.owner, token: Number(row.token), expiresAt: row.expires_at };
}

export function checkLeaseArgs(owner: string, ttlMs: number): void {
  if (typeof owner !== "string" || owner.length === 0)
    throw new TypeError("owner must be a non-empty string");
  if (!Number.isFinite(ttlMs) || ttlMs < 0)
    throw new RangeError(`ttlMs must be a non-negative number, got ${ttlMs}`);
}
