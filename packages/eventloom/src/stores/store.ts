import type { PublishedEvent, RunState, RunStatus, WorkflowEvent } from "../core/index.js";
import type { HandlerInfo } from "../protocol/codec.js";
import type { IdempotencyRecord } from "./idempotency.js";

export {
  DuplicateInboxItemError,
  InvalidCursorError,
  SequenceConflictError,
  StoreClosedError,
} from "./errors.js";
export type { IdempotencyRecord } from "./idempotency.js";

/**
 * A handler as the store keeps it: the one camelCase handler record of protocol's codec, and what
 * only the server reads.
 */
export interface HandlerRecord extends HandlerInfo {
  /**
   * Times the server resumed this run since its last step finished (it counts a resume before it
   * starts one, so a run that crashes the process every time is caught). Not on the wire. Stores
   * keep it; missing reads as 0.
   */
  resumeAttempts?: number;
  /**
   * Epoch milliseconds of the earliest timer of a running, idle run (a delayed event, a retry, a
   * waiter's timeout, its deadline): when a run released from memory must be woken. Null (or
   * missing) otherwise. Not on the wire.
   */
  wakeAt?: number | null;
  /** The run limit (`concurrency`) the run counts against: its workflow and key. Not on the wire. */
  limitKey?: string | null;
}

/** A released run that must be woken at `wakeAt` (see {@link Store.dueWakes}). */
export interface DueWake {
  handlerId: string;
  wakeAt: number;
}

/** What the store keeps of a schedule: the last fire time claimed and the run it started. */
export interface ScheduleRow {
  scheduleId: string;
  /** Epoch milliseconds. */
  lastFireAt: number;
  /** The handler the last claimed fire time started; null when it started none (a new schedule). */
  lastHandlerId: string | null;
}

/** A fire time of a schedule, claimed with the run it starts (see {@link Store.claimScheduleFire}). */
export interface ScheduleClaim {
  scheduleId: string;
  /** Epoch milliseconds. */
  fireAt: number;
  /**
   * The run's handler record (`running`, its `scheduleId` set), written with the claim. Null: the
   * fire time is only marked as seen (a schedule seen for the first time starts no run).
   */
  handler: HandlerRecord | null;
  /** The run's start event, as {@link Store.putStartEvent} keeps it (JSON); null with no handler. */
  startEvent: string | null;
}

/** An event sent from outside into a handler, recorded before it is acknowledged. */
export interface InboxItem {
  /** Unique per handler; the store keeps them in insertion order. */
  id: string;
  event: WorkflowEvent;
  step: string | null;
  /** ISO 8601 UTC with milliseconds. */
  receivedAt: string;
}

/**
 * A published event as a commit carries it: its sequence and its JSON text. The writer serializes
 * each event once; stores write the text as it is and parse it when it is read.
 */
export interface EventRow {
  sequence: number;
  /** `JSON.stringify` of the {@link PublishedEvent}, whose `sequence` is the same. */
  json: string;
}

/** Writes of any number of handlers, applied atomically: all of them or none. */
export interface CommitBatch {
  /** Inserted or replaced whole, by `handlerId`. */
  handlers?: HandlerRecord[];
  /**
   * Appended to each handler's event log. Sequences are assigned by the engine; a store rejects
   * (throws, committing nothing) a sequence that is already stored for that handler.
   */
  events?: { handlerId: string; events: EventRow[] }[];
  /**
   * Each handler's run state as JSON text (`JSON.stringify` of its {@link RunState}), replacing the
   * previous one. `idleUntil`, for a run that waits for outside events: when its earliest timer is
   * due (epoch ms; `Number.MAX_SAFE_INTEGER` without one), null when it does not wait. A shared store
   * keeps it to leave waiting handlers alone when it lists orphaned ones; others may ignore it.
   */
  states?: { handlerId: string; json: string; idleUntil?: number | null }[];
  /** Inbox items the run has taken into its state; deleted in the same transaction. */
  inboxDone?: { handlerId: string; ids: string[] }[];
  /**
   * Items for the inboxes of other handlers, added in the same transaction (a child run's end for
   * its parent, so that the end and the parent's news of it are durable together). An item is added
   * only when its handler is `running` once the batch's records are written (a record of the same
   * batch counts); one whose id that handler's inbox holds already is left as it is. Never fenced:
   * it writes nothing of the handler's own.
   */
  inboxAdd?: { handlerId: string; item: InboxItem }[];
  /**
   * Idempotency keys answered by this batch's changes, inserted in the same transaction. A key that
   * is already stored fails the whole batch with `IdempotencyKeyConflictError` (naming the record's
   * handler), writing nothing.
   */
  keys?: IdempotencyRecord[];
  /**
   * Answers for keys stored without one (`status` null: a `run` whose outcome came later): each sets
   * the status and body of its key when the stored record has no answer yet and the same
   * fingerprint and its handler (if it names one) is still stored; any other record is left as it
   * is (retention may have deleted the handler before the answer came: its key stays without one).
   */
  keyAnswers?: KeyAnswer[];
  /**
   * The event each handler's latest run started with (JSON text of `{ type, qualifiedName, data }`),
   * replacing the one kept before: written in the same transaction as the handler's first record,
   * so that keeping it costs a run no write of its own. See {@link Store.getStartEvent}.
   */
  startEvents?: { handlerId: string; json: string }[];
}

/** The answer of a key that was stored without one (see {@link CommitBatch.keyAnswers}). */
export interface KeyAnswer {
  key: string;
  fingerprint: string;
  status: number;
  body: string;
}

/** The rows of published events for a {@link CommitBatch} (each serialized once). */
export function eventRows(events: readonly PublishedEvent[]): EventRow[] {
  return events.map((event) => ({ sequence: event.sequence, json: JSON.stringify(event) }));
}

/** Exactly the fields of an inbox item, as the JSON text every store keeps. */
export const inboxItemJson = (item: InboxItem): string =>
  JSON.stringify({ id: item.id, event: item.event, step: item.step ?? null, receivedAt: item.receivedAt });

/** The JSON text of a run state for a {@link CommitBatch}. */
export const stateJson = (state: RunState): string => JSON.stringify(state);

/**
 * The record of a run written before it begins (queued behind a run limit, or claimed by a schedule):
 * running, nothing done yet, started at `at`; `fields` names it and adds its links.
 */
export function notBegunRecord(
  fields: Pick<HandlerRecord, "handlerId" | "workflowName" | "runId" | "workflowVersion"> &
    Partial<HandlerRecord>,
  at: string,
): HandlerRecord {
  return {
    status: "running",
    result: null,
    error: null,
    startedAt: at,
    updatedAt: at,
    completedAt: null,
    ...fields,
  };
}

export interface ListHandlersQuery {
  /** Any of these statuses (OR); all when empty or missing. */
  status?: RunStatus[];
  /** Any of these workflows (OR); all when empty or missing. */
  workflowName?: string[];
  /** 1..1000. */
  limit: number;
  /** The `nextCursor` of the previous page. */
  cursor?: string | null;
  /** true: only handlers with a `blocked` object; false: only those without; missing: all. */
  blocked?: boolean;
  /**
   * A handler whose result's JSON text is longer than this many bytes (UTF-8) comes without it:
   * `result: null` and `resultTruncated: true`. Missing: whole results.
   */
  maxResultBytes?: number;
  /**
   * A handler whose `error` text is longer than this many bytes (UTF-8) comes with only its first
   * `floor(maxErrorBytes / 4)` characters (so at most this many bytes) and `errorTruncated: true`.
   * Missing: whole errors.
   */
  maxErrorBytes?: number;
  /** Only the children of this handler (`ctx.runWorkflow`); missing: all. */
  parentHandlerId?: string;
}

/**
 * Which ended handlers `deleteEnded` deletes: for each status given, those whose `completedAt` is
 * before this time (ISO 8601 UTC). A status left out is not deleted.
 */
export interface EndedCutoffs {
  completed?: string;
  failed?: string;
  cancelled?: string;
}

export interface HandlerPage {
  /** Newest first (by `startedAt`, then `handlerId`). */
  handlers: HandlerRecord[];
  /** Opaque; null when there is no more. */
  nextCursor: string | null;
}

/**
 * Where a server keeps everything durable: handlers, every published event, each run's state and
 * the events sent into it. One interface, one contract suite (`eventloom/testing`: `runStoreContract`), several stores.
 *
 * Every method may throw; a failed `commit` changes nothing.
 */
export interface Store {
  /** Creates or migrates the schema. Idempotent; safe when several processes start at once. */
  init(): Promise<void>;
  /** Releases connections and files. Pending writes are finished first. */
  close(): Promise<void>;

  commit(batch: CommitBatch): Promise<void>;

  getHandler(handlerId: string): Promise<HandlerRecord | null>;
  listHandlers(query: ListHandlersQuery): Promise<HandlerPage>;
  /** Handlers whose status is `running`, for resuming them after a start; oldest first. */
  listRunning(): Promise<HandlerRecord[]>;
  /**
   * Running handlers whose `wakeAt` is at or before `before` (epoch ms), earliest first, at most
   * `limit`: the next runs a server must wake (an index on `wake_at` makes it cheap).
   */
  dueWakes(before: number, limit: number): Promise<DueWake[]>;

  /**
   * Run limits: while fewer than `limit` running handlers of `limitKey` are not `queued`, takes the
   * oldest queued ones (by `startedAt`, then `handlerId`) off the queue (`queued` false) and resolves
   * with their ids, oldest first. Atomic: calls from any number of processes at once never admit
   * past `limit` together. Notifies no listener: the caller resumes what it admitted.
   */
  admitQueued(limitKey: string, limit: number): Promise<string[]>;
  /** Where a queued handler stands in its key's queue: 1 is the next one admitted; null when not queued. */
  queuePosition(handlerId: string): Promise<number | null>;
  /** The limit keys that have queued handlers, at most `limit` of them. */
  queuedKeys(limit: number): Promise<string[]>;

  /** Events with `sequence > afterSequence`, in order, at most `limit` (a non-negative integer) of them. */
  readEvents(handlerId: string, afterSequence: number, limit: number): Promise<PublishedEvent[]>;
  /**
   * Like `readEvents`, but each event as the JSON text it was committed as (byte for byte), for
   * readers that pass events on without looking inside every one (event streams). With `maxBytes`,
   * it stops after the row that brings the rows' total JSON text length to `maxBytes` or more (at
   * least one row), so that a page of large events stays bounded in memory.
   */
  readEventRows(
    handlerId: string,
    afterSequence: number,
    limit: number,
    maxBytes?: number,
  ): Promise<EventRow[]>;
  /** The highest stored sequence of the handler, or -1. */
  lastSequence(handlerId: string): Promise<number>;

  loadState(handlerId: string): Promise<RunState | null>;

  /**
   * Durably records an event sent into a handler (resolves once it is on disk), and `key` with it in
   * the same transaction. Rejects with {@link DuplicateInboxItemError} when the handler already holds
   * an item with that id, with `IdempotencyKeyConflictError` when the key is stored; then nothing
   * was written.
   */
  appendInbox(handlerId: string, item: InboxItem, key?: IdempotencyRecord): Promise<void>;
  /** The handler's pending inbox items, oldest first. */
  readInbox(handlerId: string): Promise<InboxItem[]>;

  /**
   * Deletes the handler and everything stored for it but its idempotency keys, and records `key` in
   * the same transaction (a stored key: `IdempotencyKeyConflictError`, nothing deleted). Resolves
   * false when it did not exist.
   */
  deleteHandler(handlerId: string, key?: IdempotencyRecord): Promise<boolean>;

  /** The record of an idempotency key, or null. */
  getIdempotencyKey(key: string): Promise<IdempotencyRecord | null>;
  /**
   * Records a key on its own (an answer that changed nothing, or the outcome of a `run` awaited by
   * its record): inserted when the key is new; a stored record whose `status` is null takes this
   * one's answer when the fingerprints match; any other stored record is kept as it is. Resolves
   * with the record as stored now, so that every request with the key gets the same answer.
   */
  putIdempotencyKey(record: IdempotencyRecord): Promise<IdempotencyRecord>;
  /**
   * Deletes at most `limit` keys first used before `createdBefore` (ISO 8601, compared as text).
   * Resolves with how many it deleted.
   */
  deleteIdempotencyKeys(createdBefore: string, limit: number): Promise<number>;

  /**
   * Retention: deletes at most `limit` ended handlers that `cutoffs` names (oldest first), each with
   * everything stored for it, in one transaction, and resolves with their ids; fewer than `limit`
   * means none more is due now. Never deletes a running handler nor one with `blocked`. In the same
   * transaction, the idempotency keys that name a deleted handler lose their stored answer (`status`
   * and `body` set to null; the key, its fingerprint, handler and run stay until the keys' own TTL):
   * a retry with such a key executes nothing and is told the handler is gone (404
   * `HANDLER_NOT_FOUND`), and a sync run's result does not outlive its handler. Optional: a server
   * with `retention` refuses to start on a store without it.
   */
  deleteEnded?(cutoffs: EndedCutoffs, limit: number): Promise<string[]>;

  /**
   * Gives space that deletions freed back to the file system, a bounded amount per call (SQLite:
   * incremental vacuum); resolves true when there is more to give back. Optional: a store whose
   * space is reused in place (Postgres, after autovacuum) or that holds no file (memory) has none.
   */
  reclaimSpace?(): Promise<boolean>;

  /**
   * Readies the store for retention: called once, before retention's first pass. A store may keep
   * what only retention needs (SQLite: the index of ended handlers, incremental vacuum) from costing
   * the runs of servers without retention. Optional.
   */
  prepareRetention?(): Promise<void>;

  /**
   * Resolves when the store takes writes now; rejects (STORE_UNAVAILABLE) when it does not. Cheap
   * and writes nothing: `GET /ready` calls it on every probe. Optional: a store without it is ready
   * whenever its last commit succeeded.
   */
  ready?(): Promise<void>;

  /**
   * The start event a commit kept for the handler ({@link CommitBatch.startEvents}), or null; it is
   * deleted with the handler. The debugger shows a run's input with it and starts the run again
   * from it. Optional: a store without it ignores `startEvents`, and records carry no start event.
   */
  getStartEvent?(handlerId: string): Promise<string | null>;

  /**
   * Claims a schedule's fire time, atomically: when the schedule has no row, or its `lastFireAt` is
   * earlier than `claim.fireAt`, the row takes the fire time and the handler's id, and the handler
   * record (with no state: the run is yet to start) and its start event are written in the same
   * transaction; resolves true. Otherwise writes nothing and resolves false: another claim (any
   * process's) got this fire time or a later one. A handler that already exists is left as it is.
   */
  claimScheduleFire(claim: ScheduleClaim): Promise<boolean>;

  /** The rows of these schedules (those that have one), in no particular order. */
  listSchedules(scheduleIds: readonly string[]): Promise<ScheduleRow[]>;

  /**
   * Calls `listener` with the ids of handlers that got new events, inbox items or a new record,
   * after the write is durable: this process's own commits and, for a shared store, other
   * processes' too. Returns an unsubscribe function. Listeners run synchronously after the write;
   * one that throws is ignored (the write stands, the other listeners still run).
   */
  subscribe(listener: (handlerIds: readonly string[]) => void): () => void;
}
