import type { PublishedEvent, RunState, RunStatus } from "../../core/index.js";
import { decodeCursor, encodeCursor } from "../cursor.js";
import { IdempotencyKeyConflictError, type IdempotencyRecord } from "../idempotency.js";
import { checkAfterSequence, checkListLimit, checkReadLimit, checkSequence } from "../limits.js";
import { changedHandlerIds, StoreListeners } from "../listeners.js";
import {
  type CommitBatch,
  type DueWake,
  DuplicateInboxItemError,
  type EndedCutoffs,
  type EventRow,
  type HandlerPage,
  type HandlerRecord,
  type InboxItem,
  type ListHandlersQuery,
  type ScheduleClaim,
  type ScheduleRow,
  SequenceConflictError,
  type Store,
  StoreClosedError,
} from "../store.js";
import { type EventLog, firstGreater, indexOf, insertEvent } from "./event-log.js";
import { admitQueued, queuedKeys, queuePosition } from "./queue.js";
import {
  compareNewestFirst,
  compareText,
  inboxEntry,
  keyRecord,
  listedRecord,
  normalizeRecord,
} from "./records.js";
import { ScheduleRows } from "./schedule-rows.js";

interface HandlerEntry {
  startedAt: string;
  status: RunStatus;
  workflowName: string;
  completedAt: string | null;
  blocked: boolean;
  wakeAt: number | null;
  parentHandlerId: string | null;
  json: string;
}

/**
 * A store that keeps everything in memory, for tests and for embedding a server that needs no
 * durability. Everything is kept as JSON text, exactly as a durable store would keep it: what you
 * read is a fresh copy, and mutating what you passed in or got back never changes what is stored.
 *
 * @example
 * const server = new WorkflowServer({ store: new MemoryStore() });
 */
export class MemoryStore implements Store {
  readonly #handlers = new Map<string, HandlerEntry>();
  readonly #events = new Map<string, EventLog>();
  readonly #states = new Map<string, string>();
  readonly #inbox = new Map<string, { id: string; json: string }[]>();
  /** Idempotency records by key, as JSON text. */
  readonly #keys = new Map<string, string>();
  readonly #starts = new Map<string, string>();
  readonly #schedules = new ScheduleRows();
  readonly #listeners = new StoreListeners();
  #closed = false;

  async init(): Promise<void> {
    this.#open();
  }

  async ready(): Promise<void> {
    if (this.#closed) throw new StoreClosedError();
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#listeners.clear();
  }

  async commit(batch: CommitBatch): Promise<void> {
    this.#open();
    // Check and serialize everything first, then apply: a failure leaves the store untouched.
    const handlers = (batch.handlers ?? []).map((record) => {
      const normalized = normalizeRecord(record);
      return {
        handlerId: normalized.handlerId,
        entry: {
          startedAt: normalized.startedAt,
          status: normalized.status,
          workflowName: normalized.workflowName,
          completedAt: normalized.completedAt,
          blocked: normalized.blocked != null,
          wakeAt: normalized.status === "running" ? (normalized.wakeAt ?? null) : null,
          parentHandlerId: normalized.parentHandlerId ?? null,
          json: JSON.stringify(normalized),
        },
      };
    });
    const claimed = new Map<string, Set<number>>();
    const events: { handlerId: string; sequence: number; json: string }[] = [];
    for (const group of batch.events ?? []) {
      let seen = claimed.get(group.handlerId);
      if (seen === undefined) {
        seen = new Set();
        claimed.set(group.handlerId, seen);
      }
      const log = this.#events.get(group.handlerId);
      for (const event of group.events) {
        checkSequence(group.handlerId, event.sequence);
        if (seen.has(event.sequence) || (log !== undefined && indexOf(log.sequences, event.sequence) >= 0)) {
          throw new SequenceConflictError(group.handlerId, event.sequence);
        }
        seen.add(event.sequence);
        events.push({ handlerId: group.handlerId, sequence: event.sequence, json: event.json });
      }
    }
    const states = batch.states ?? [];
    const done = batch.inboxDone ?? [];
    const keys = this.#newKeys(batch.keys ?? []);
    for (const h of handlers) this.#handlers.set(h.handlerId, h.entry);
    // Into running handlers' inboxes (this batch's records included), each item id once.
    for (const { handlerId, item } of batch.inboxAdd ?? []) {
      const items = this.#inbox.get(handlerId) ?? [];
      if (this.#handlers.get(handlerId)?.status !== "running" || items.some((i) => i.id === item.id))
        continue;
      this.#inbox.set(handlerId, [...items, inboxEntry(item)]);
    }
    for (const e of events) insertEvent(this.#eventLog(e.handlerId), e.sequence, e.json);
    for (const s of states) this.#states.set(s.handlerId, s.json);
    for (const d of done) {
      const items = this.#inbox.get(d.handlerId);
      if (items === undefined) continue;
      const ids = new Set(d.ids);
      const left = items.filter((item) => !ids.has(item.id));
      if (left.length > 0) this.#inbox.set(d.handlerId, left);
      else this.#inbox.delete(d.handlerId);
    }
    for (const [key, json] of keys) this.#keys.set(key, json);
    for (const s of batch.startEvents ?? []) this.#starts.set(s.handlerId, s.json);
    for (const a of batch.keyAnswers ?? []) {
      const json = this.#keys.get(a.key);
      const stored = json === undefined ? null : (JSON.parse(json) as IdempotencyRecord);
      const gone = stored?.handlerId != null && !this.#handlers.has(stored.handlerId);
      if (stored?.status === null && stored.fingerprint === a.fingerprint && !gone) {
        this.#keys.set(a.key, JSON.stringify({ ...stored, status: a.status, body: a.body }));
      }
    }
    this.#listeners.notify(changedHandlerIds(batch));
  }

  async getHandler(handlerId: string): Promise<HandlerRecord | null> {
    this.#open();
    const entry = this.#handlers.get(handlerId);
    return entry === undefined ? null : (JSON.parse(entry.json) as HandlerRecord);
  }

  async listHandlers(query: ListHandlersQuery): Promise<HandlerPage> {
    this.#open();
    checkListLimit(query.limit);
    const after = query.cursor == null ? null : decodeCursor(query.cursor);
    const statuses = query.status?.length ? new Set<string>(query.status) : null;
    const names = query.workflowName?.length ? new Set(query.workflowName) : null;
    const matching: { handlerId: string; entry: HandlerEntry }[] = [];
    for (const [handlerId, entry] of this.#handlers) {
      if (statuses !== null && !statuses.has(entry.status)) continue;
      if (names !== null && !names.has(entry.workflowName)) continue;
      if (query.blocked !== undefined && entry.blocked !== query.blocked) continue;
      if (query.parentHandlerId !== undefined && entry.parentHandlerId !== query.parentHandlerId) continue;
      if (
        after !== null &&
        compareNewestFirst(entry.startedAt, handlerId, after.startedAt, after.handlerId) >= 0
      ) {
        continue;
      }
      matching.push({ handlerId, entry });
    }
    matching.sort((a, b) =>
      compareNewestFirst(b.entry.startedAt, b.handlerId, a.entry.startedAt, a.handlerId),
    );
    const page = matching.slice(0, query.limit);
    const last = page[page.length - 1];
    return {
      handlers: page.map((m) => listedRecord(JSON.parse(m.entry.json) as HandlerRecord, query)),
      nextCursor:
        matching.length > query.limit && last !== undefined
          ? encodeCursor({ startedAt: last.entry.startedAt, handlerId: last.handlerId })
          : null,
    };
  }

  async listRunning(): Promise<HandlerRecord[]> {
    this.#open();
    const running = [...this.#handlers].filter(([, entry]) => entry.status === "running");
    running.sort(([aId, a], [bId, b]) => compareNewestFirst(b.startedAt, bId, a.startedAt, aId));
    return running.reverse().map(([, entry]) => JSON.parse(entry.json) as HandlerRecord);
  }

  async dueWakes(before: number, limit: number): Promise<DueWake[]> {
    this.#open();
    const due: DueWake[] = [];
    for (const [handlerId, { wakeAt }] of this.#handlers) {
      if (wakeAt !== null && wakeAt <= before) due.push({ handlerId, wakeAt });
    }
    return due.sort((a, b) => a.wakeAt - b.wakeAt).slice(0, limit);
  }

  async admitQueued(limitKey: string, limit: number): Promise<string[]> {
    this.#open();
    return admitQueued(this.#handlers, limitKey, limit);
  }

  async queuePosition(handlerId: string): Promise<number | null> {
    this.#open();
    return queuePosition(this.#handlers, handlerId);
  }

  async queuedKeys(limit: number): Promise<string[]> {
    this.#open();
    return queuedKeys(this.#handlers, limit);
  }

  async readEvents(handlerId: string, afterSequence: number, limit: number): Promise<PublishedEvent[]> {
    const rows = await this.readEventRows(handlerId, afterSequence, limit);
    return rows.map((row) => JSON.parse(row.json) as PublishedEvent);
  }

  async readEventRows(
    handlerId: string,
    afterSequence: number,
    limit: number,
    maxBytes = Number.POSITIVE_INFINITY,
  ): Promise<EventRow[]> {
    this.#open();
    checkAfterSequence(afterSequence);
    checkReadLimit(limit);
    const log = this.#events.get(handlerId);
    if (log === undefined) return [];
    const start = firstGreater(log.sequences, afterSequence);
    const end = Math.min(log.json.length, start + limit);
    const rows: EventRow[] = [];
    let bytes = 0;
    for (let i = start; i < end && bytes < maxBytes; i++) {
      const json = log.json[i] as string;
      bytes += json.length;
      rows.push({ sequence: log.sequences[i] as number, json });
    }
    return rows;
  }

  async lastSequence(handlerId: string): Promise<number> {
    this.#open();
    const log = this.#events.get(handlerId);
    return log?.sequences[log.sequences.length - 1] ?? -1;
  }

  async loadState(handlerId: string): Promise<RunState | null> {
    this.#open();
    const json = this.#states.get(handlerId);
    return json === undefined ? null : (JSON.parse(json) as RunState);
  }

  async appendInbox(handlerId: string, item: InboxItem, key?: IdempotencyRecord): Promise<void> {
    this.#open();
    const items = this.#inbox.get(handlerId) ?? [];
    if (items.some((i) => i.id === item.id)) throw new DuplicateInboxItemError(handlerId, item.id);
    const keys = this.#newKeys(key ? [key] : []);
    items.push(inboxEntry(item));
    this.#inbox.set(handlerId, items);
    for (const [k, text] of keys) this.#keys.set(k, text);
    this.#listeners.notify([handlerId]);
  }

  async readInbox(handlerId: string): Promise<InboxItem[]> {
    this.#open();
    return (this.#inbox.get(handlerId) ?? []).map((item) => JSON.parse(item.json) as InboxItem);
  }

  async deleteHandler(handlerId: string, key?: IdempotencyRecord): Promise<boolean> {
    this.#open();
    for (const [k, text] of this.#newKeys(key ? [key] : [])) this.#keys.set(k, text);
    const existed = this.#handlers.delete(handlerId);
    this.#events.delete(handlerId);
    this.#states.delete(handlerId);
    this.#inbox.delete(handlerId);
    this.#starts.delete(handlerId);
    return existed;
  }

  async getStartEvent(handlerId: string): Promise<string | null> {
    this.#open();
    return this.#starts.get(handlerId) ?? null;
  }

  async claimScheduleFire(claim: ScheduleClaim): Promise<boolean> {
    this.#open();
    const { handler, startEvent } = claim;
    let written = Promise.resolve();
    // commit() applies its batch before it returns its promise: the claim is one step.
    const claimed = this.#schedules.claim(claim, () => {
      if (!handler || this.#handlers.has(handler.handlerId)) return;
      written = this.commit({ handlers: [handler] });
      if (startEvent !== null) this.#starts.set(handler.handlerId, startEvent);
    });
    await written;
    return claimed;
  }

  async listSchedules(scheduleIds: readonly string[]): Promise<ScheduleRow[]> {
    this.#open();
    return this.#schedules.list(scheduleIds);
  }

  async deleteEnded(cutoffs: EndedCutoffs, limit: number): Promise<string[]> {
    this.#open();
    checkListLimit(limit);
    const due: { handlerId: string; completedAt: string }[] = [];
    for (const [handlerId, entry] of this.#handlers) {
      const cutoff = entry.status === "running" ? undefined : cutoffs[entry.status];
      if (cutoff === undefined || entry.blocked || entry.completedAt === null) continue;
      if (compareText(entry.completedAt, cutoff) < 0) due.push({ handlerId, completedAt: entry.completedAt });
    }
    due.sort((a, b) => compareText(a.completedAt, b.completedAt) || compareText(a.handlerId, b.handlerId));
    const ids = due.slice(0, limit).map((d) => d.handlerId);
    for (const id of ids) await this.deleteHandler(id);
    // The keys that name them keep no answer (Store.deleteEnded).
    const deleted = new Set(ids);
    for (const [key, json] of this.#keys) {
      const record = JSON.parse(json) as IdempotencyRecord;
      if (record.handlerId === null || !deleted.has(record.handlerId) || record.status === null) continue;
      this.#keys.set(key, JSON.stringify({ ...record, status: null, body: null }));
    }
    return ids;
  }

  async getIdempotencyKey(key: string): Promise<IdempotencyRecord | null> {
    this.#open();
    const json = this.#keys.get(key);
    return json === undefined ? null : (JSON.parse(json) as IdempotencyRecord);
  }

  async putIdempotencyKey(record: IdempotencyRecord): Promise<IdempotencyRecord> {
    this.#open();
    const json = this.#keys.get(record.key);
    const stored = json === undefined ? null : (JSON.parse(json) as IdempotencyRecord);
    const answered =
      stored !== null &&
      stored.status === null &&
      record.status !== null &&
      stored.fingerprint === record.fingerprint;
    if (stored === null || answered) {
      const next =
        stored === null ? keyRecord(record) : { ...stored, status: record.status, body: record.body };
      this.#keys.set(record.key, JSON.stringify(next));
      return next;
    }
    return stored;
  }

  async deleteIdempotencyKeys(createdBefore: string, limit: number): Promise<number> {
    this.#open();
    checkListLimit(limit);
    let deleted = 0;
    for (const [key, json] of this.#keys) {
      if (deleted >= limit) break;
      if ((JSON.parse(json) as IdempotencyRecord).createdAt < createdBefore) {
        this.#keys.delete(key);
        deleted++;
      }
    }
    return deleted;
  }

  subscribe(listener: (handlerIds: readonly string[]) => void): () => void {
    return this.#listeners.add(listener);
  }

  /** The keys of a write as JSON text, checked new (the write must then store nothing). */
  #newKeys(records: readonly IdempotencyRecord[]): Map<string, string> {
    const keys = new Map<string, string>();
    for (const r of records) {
      if (this.#keys.has(r.key) || keys.has(r.key)) throw new IdempotencyKeyConflictError(r.key, r.handlerId);
      keys.set(r.key, JSON.stringify(keyRecord(r)));
    }
    return keys;
  }

  #open(): void {
    if (this.#closed) throw new StoreClosedError();
  }

  #eventLog(handlerId: string): EventLog {
    let log = this.#events.get(handlerId);
    if (log === undefined) {
      log = { sequences: [], json: [] };
      this.#events.set(handlerId, log);
    }
    return log;
  }
}
