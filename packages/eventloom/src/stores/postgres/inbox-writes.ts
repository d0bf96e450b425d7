import type pg from "pg";
import { IdempotencyKeyConflictError, type IdempotencyRecord } from "../idempotency.js";
import { DuplicateInboxItemError, type InboxItem, inboxItemJson } from "../store.js";
import { noticePayloads } from "./change-feed.js";
import { isKeyTaken, UNIQUE_VIOLATION } from "./commit-errors.js";
import { keyParams } from "./commit-params.js";
import type { Connections } from "./connections.js";

/** What an inbox write needs of its store. */
export interface InboxWriteContext {
  db: Connections;
  channel: string;
  /** This store's notices' origin (its own are not delivered back to it by the feed). */
  origin: string;
}

/**
 * Writes one inbox item (with its idempotency key, when given) and notifies the handler's change in
 * one statement (`appendInbox` or `appendInboxLeased` of statements.ts); resolves with its rows.
 */
export async function writeInboxItem<R extends pg.QueryResultRow>(
  c: InboxWriteContext,
  statement: string,
  handlerId: string,
  item: InboxItem,
  key?: IdempotencyRecord,
): Promise<R[]> {
  const json = inboxItemJson(item);
  const notice = noticePayloads(c.origin, [handlerId])[0] as string;
  let rows: R[];
  try {
    ({ rows } = await c.db.query<R>(statement, [
      handlerId,
      item.id,
      json,
      c.channel,
      notice,
      ...keyParams(key),
    ]));
  } catch (error) {
    if (key && isKeyTaken(error))
      throw new IdempotencyKeyConflictError(key.key, key.handlerId, { cause: error });
    if ((error as { code?: unknown }).code === UNIQUE_VIOLATION) {
      throw new DuplicateInboxItemError(handlerId, item.id, { cause: error });
    }
    throw error;
  }
  return rows;
}
