import Database from "better-sqlite3";
import { IdempotencyKeyConflictError, type IdempotencyRecord } from "../idempotency.js";
import { type KeyRow, toKeyRecord as toRecord } from "../rows.js";
import type { KeyAnswer } from "../store.js";

const params = (r: IdempotencyRecord) => [
  r.key,
  r.fingerprint,
  r.handlerId ?? null,
  r.runId ?? null,
  r.status ?? null,
  r.body ?? null,
  r.createdAt,
];

/** The key read, prepared on a connection (reads run on the store's own thread). */
export function prepareKeyRead(db: Database.Database): (key: string) => IdempotencyRecord | null {
  const get = db.prepare("SELECT * FROM idempotency_keys WHERE key = ?");
  return (key) => {
    const row = get.get(key) as KeyRow | undefined;
    return row === undefined ? null : toRecord(row);
  };
}

/** The writes of idempotency keys on the writing connection; each runs inside the caller's transaction. */
export interface KeyWrites {
  /** Inserts new keys; a stored one throws IdempotencyKeyConflictError (the transaction rolls back). */
  insert(records: readonly IdempotencyRecord[]): void;
  put(record: IdempotencyRecord): IdempotencyRecord;
  /** Sets the answers of keys stored without one (see CommitBatch.keyAnswers). */
  answer(answers: readonly KeyAnswer[]): void;
  deleteBefore(createdBefore: string, limit: number): number;
  /** Drops the stored answers of the keys that name a handler retention deletes (Store.deleteEnded). */
  forgetAnswers(handlerId: string): void;
}

export function prepareKeyWrites(db: Database.Database): KeyWrites {
  const insert = db.prepare(
    `INSERT INTO idempotency_keys (key, fingerprint, handler_id, run_id, status, body, created_at)
     VALUES (?, ?, ?, ?, ?, ?, ?)`,
  );
  // A record waiting for its run's outcome takes it once; anything else stored stays as it is.
  const upsert = db.prepare(
    `INSERT INTO idempotency_keys (key, fingerprint, handler_id, run_id, status, body, created_at)
     VALUES (?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (key) DO UPDATE SET status = excluded.status, body = excluded.body
     WHERE idempotency_keys.status IS NULL AND excluded.status IS NOT NULL
       AND idempotency_keys.fingerprint = excluded.fingerprint`,
  );
  const read = prepareKeyRead(db);
  const answer = db.prepare(
    `UPDATE idempotency_keys SET status = ?, body = ?
     WHERE key = ? AND status IS NULL AND fingerprint = ?
       AND (handler_id IS NULL OR EXISTS (SELECT 1 FROM handlers h WHERE h.handler_id = idempotency_keys.handler_id))`,
  );
  const forget = db.prepare(
    "UPDATE idempotency_keys SET status = NULL, body = NULL WHERE handler_id = ? AND status IS NOT NULL",
  );
  const deleteBefore = db.prepare(
    `DELETE FROM idempotency_keys WHERE key IN
       (SELECT key FROM idempotency_keys WHERE created_at < ? ORDER BY created_at LIMIT ?)`,
  );
  const put = db.transaction((record: IdempotencyRecord): IdempotencyRecord => {
    upsert.run(params(record));
    return read(record.key) as IdempotencyRecord;
  });
  return {
    insert(records) {
      for (const r of records) {
        try {
          insert.run(params(r));
        } catch (error) {
          if (error instanceof Database.SqliteError && error.code === "SQLITE_CONSTRAINT_PRIMARYKEY")
            throw new IdempotencyKeyConflictError(r.key, r.handlerId, { cause: error });
          throw error;
        }
      }
    },
    put: (record) => put.immediate(record),
    answer(answers) {
      for (const a of answers) answer.run(a.status, a.body, a.key, a.fingerprint);
    },
    deleteBefore: (createdBefore, limit) => deleteBefore.run(createdBefore, limit).changes,
    forgetAnswers(handlerId) {
      forget.run(handlerId);
    },
  };
}
