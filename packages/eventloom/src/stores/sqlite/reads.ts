import type Database from "better-sqlite3";
import type { RunStatus } from "../../core/index.js";
import type { IdempotencyRecord } from "../idempotency.js";
import { errorChars } from "../limits.js";
import type { HandlerRowColumns } from "../rows.js";
import type { ListHandlersQuery } from "../store.js";

export { blockedJson, toRecord } from "../rows.js";

import { prepareKeyRead } from "./key-rows.js";

/** A row of `handlers` as the reads select it. */
export interface HandlerRow extends HandlerRowColumns {
  status: RunStatus;
  /** Listings only: 1 when the result was left out for its size. */
  result_truncated?: number;
  wake_at?: number | null;
  queued?: number;
}

export type Statement = Database.Statement<unknown[], unknown>;

/** Every read the store runs, prepared once when the database is opened. */
export interface Statements {
  getHandler: Statement;
  listRunning: Statement;
  readEvents: Statement;
  /** The byte lengths of the rows readEvents would give, read from the rows' headers only. */
  eventSizes: Statement;
  lastSequence: Statement;
  loadState: Statement;
  readInbox: Statement;
  getStartEvent: Statement;
  dueWakes: Statement;
  listSchedules: Statement;
  /** Run limits: a queued handler's place in its key's queue (0 when it is not queued). */
  queuePosition: Statement;
  queuedKeys: Statement;
  getKey: (key: string) => IdempotencyRecord | null;
}

/** A record's columns: every column of `handlers` but the start event (read on its own). */
const RECORD_COLUMNS = `handler_id, workflow_name, run_id, status, result, error, started_at, updated_at,
  completed_at, resume_attempts, workflow_version, blocked, wake_at, parent_handler_id, schedule_id, limit_key, queued`;

export function prepareReads(db: Database.Database): Statements {
  return {
    getHandler: db.prepare(`SELECT ${RECORD_COLUMNS} FROM handlers WHERE handler_id = ?`),
    getStartEvent: db.prepare("SELECT start_event FROM handlers WHERE handler_id = ?").pluck(),
    listRunning: db.prepare(
      `SELECT ${RECORD_COLUMNS} FROM handlers WHERE status = 'running' ORDER BY started_at, handler_id`,
    ),
    readEvents: db
      .prepare(
        "SELECT sequence, envelope FROM events WHERE handler_id = ? AND sequence > ? ORDER BY sequence LIMIT ?",
      )
      .raw(),
    eventSizes: db
      .prepare(
        "SELECT octet_length(envelope) FROM events WHERE handler_id = ? AND sequence > ? ORDER BY sequence LIMIT ?",
      )
      .pluck(),
    lastSequence: db
      .prepare("SELECT sequence FROM events WHERE handler_id = ? ORDER BY sequence DESC LIMIT 1")
      .pluck(),
    loadState: db.prepare("SELECT state FROM states WHERE handler_id = ?").pluck(),
    readInbox: db.prepare("SELECT item FROM inbox WHERE handler_id = ? ORDER BY position").pluck(),
    dueWakes: db.prepare(
      `SELECT handler_id AS handlerId, wake_at AS wakeAt FROM handlers
       WHERE wake_at IS NOT NULL AND wake_at <= ? AND status = 'running' ORDER BY wake_at LIMIT ?`,
    ),
    listSchedules: db.prepare(
      `SELECT schedule_id AS scheduleId, last_fire_at AS lastFireAt, last_handler_id AS lastHandlerId
       FROM schedules WHERE schedule_id IN (SELECT value FROM json_each(?))`,
    ),
    // Both read the partial index of limited running handlers (handlers_limited).
    queuePosition: db
      .prepare(
        `SELECT count(*) FROM handlers h JOIN handlers q
           ON q.limit_key = h.limit_key AND q.status = 'running' AND q.queued = 1
          AND (q.started_at, q.handler_id) <= (h.started_at, h.handler_id)
         WHERE h.handler_id = ? AND h.limit_key IS NOT NULL AND h.status = 'running' AND h.queued = 1`,
      )
      .pluck(),
    queuedKeys: db
      .prepare(
        `SELECT DISTINCT limit_key FROM handlers
         WHERE limit_key IS NOT NULL AND status = 'running' AND queued = 1 LIMIT ?`,
      )
      .pluck(),
    getKey: prepareKeyRead(db),
  };
}

/** The shape of a listing's filters: which statement it needs. */
export interface ListingShape {
  statuses: number;
  names: number;
  cursor: boolean;
  blocked: boolean | undefined;
  parent?: boolean;
}

// A result longer than the cap (in bytes: CAST AS BLOB counts bytes) is not copied out of SQLite; an
// error longer than its cap is cut to its first characters (substr counts characters).
const CAPPED_COLUMNS = `handler_id, workflow_name, run_id, status,
  CASE WHEN length(CAST(error AS BLOB)) > ? THEN substr(error, 1, ?) ELSE error END AS error,
  length(CAST(error AS BLOB)) > ? AS error_truncated,
  started_at, updated_at, completed_at,
  resume_attempts, workflow_version, blocked, wake_at, parent_handler_id, schedule_id, limit_key, queued,
  CASE WHEN length(CAST(result AS BLOB)) > ? THEN 'null' ELSE result END AS result,
  length(CAST(result AS BLOB)) > ? AS result_truncated`;

/**
 * The SQL of a listing. Its parameters: the cap on an error's bytes, the characters it is cut to,
 * the cap again, the cap on a result's bytes (twice), the statuses, the
 * names, the cursor's two values, the limit. `blocked IS NOT NULL` is written out so that SQLite
 * may use the partial index of blocked handlers.
 */
export function listingSql(shape: ListingShape): string {
  const where: string[] = [];
  if (shape.statuses > 0) where.push(`status IN (${placeholders(shape.statuses)})`);
  if (shape.names > 0) where.push(`workflow_name IN (${placeholders(shape.names)})`);
  if (shape.parent) where.push("parent_handler_id = ?");
  if (shape.cursor) where.push("(started_at, handler_id) < (?, ?)");
  if (shape.blocked === true) where.push("blocked IS NOT NULL");
  if (shape.blocked === false) where.push("blocked IS NULL");
  return `SELECT ${CAPPED_COLUMNS} FROM handlers ${where.length ? `WHERE ${where.join(" AND ")}` : ""}
     ORDER BY started_at DESC, handler_id DESC LIMIT ?`;
}

const MAX_CACHED_LISTINGS = 64;

/** A listing's statement for its shape, prepared on first use and kept (a bounded number of shapes). */
export function cachedListing(
  db: Database.Database,
  cache: Map<string, Statement>,
  shape: ListingShape,
): Statement {
  const key = `${shape.statuses}:${shape.names}:${shape.cursor ? 1 : 0}:${String(shape.blocked)}:${shape.parent ? 1 : 0}`;
  let statement = cache.get(key);
  if (statement === undefined) {
    statement = db.prepare(listingSql(shape));
    // Long lists of workflow names make many shapes; keep the cache bounded.
    if (cache.size >= MAX_CACHED_LISTINGS) cache.clear();
    cache.set(key, statement);
  }
  return statement;
}

/**
 * How many of the next `limit` events to read so that they stop at the one reaching `maxBytes`: their
 * lengths come from the rows' headers (`octet_length`), so the rows past the budget are never read.
 */
export function rowsWithin(
  statements: Statements,
  handlerId: string,
  afterSequence: number,
  limit: number,
  maxBytes: number,
): number {
  const sizes = statements.eventSizes.all(handlerId, afterSequence, limit) as number[];
  let bytes = 0;
  for (let i = 0; i < sizes.length; i++) {
    bytes += sizes[i] as number;
    if (bytes >= maxBytes) return i + 1;
  }
  return limit;
}

/** The first parameters of a listing: its caps on an error and on a result (see listingSql). */
export function capParams(query: Pick<ListHandlersQuery, "maxResultBytes" | "maxErrorBytes">): number[] {
  const cap = query.maxResultBytes ?? Number.MAX_SAFE_INTEGER;
  const errorCap = query.maxErrorBytes ?? Number.MAX_SAFE_INTEGER;
  return [errorCap, errorChars(errorCap), errorCap, cap, cap];
}

function placeholders(n: number): string {
  return Array.from({ length: n }, () => "?").join(", ");
}
