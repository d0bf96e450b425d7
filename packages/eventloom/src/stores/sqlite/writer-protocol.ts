import Database from "better-sqlite3";
import { WorkflowError } from "../../core/index.js";
import { IdempotencyKeyConflictError, type IdempotencyRecord } from "../idempotency.js";
import {
  type CommitBatch,
  DuplicateInboxItemError,
  type EndedCutoffs,
  type HandlerRecord,
  type InboxItem,
  type ScheduleClaim,
  SequenceConflictError,
} from "../store.js";
import type { FileIdentity } from "./file-guard.js";
import { type ConnectionOptions, WRITTEN_FIELDS, type WriteBatch, type WrittenRecord } from "./writes.js";

/** What the writer thread is started with. */
export interface WriterData {
  path: string;
  options: ConnectionOptions;
  /** The file the store opened, set before the first write (see FileGuard). */
  file: FileIdentity | null;
}

/**
 * A commit batch as it crosses to the writer thread. Structured clone copies every key of every
 * object: the records, states, start events and event groups go as flat arrays of their values, and
 * the events' JSON texts joined into one string with their lengths and sequences in typed arrays.
 * Copying thousands of small strings and objects one by one cost the event loop more than the
 * events' serialization itself; the records' keys were half of a trivial run's message.
 */
export interface PackedBatch {
  /** {@link WRITTEN_FIELDS} of each record, one after the other. */
  handlers: unknown[] | undefined;
  /** `handlerId, json` of each state. */
  states: string[] | undefined;
  inboxDone: CommitBatch["inboxDone"];
  inboxAdd: CommitBatch["inboxAdd"];
  keys: CommitBatch["keys"];
  keyAnswers: CommitBatch["keyAnswers"];
  /** `handlerId, json` of each start event. */
  startEvents: string[] | undefined;
  /** `handlerId, count` of each group of events. */
  groups: (string | number)[];
  sequences: Float64Array;
  lengths: Uint32Array;
  texts: string;
}

export function packBatch(batch: CommitBatch): PackedBatch {
  const groups: PackedBatch["groups"] = [];
  let total = 0;
  for (const group of batch.events ?? []) {
    groups.push(group.handlerId, group.events.length);
    total += group.events.length;
  }
  const sequences = new Float64Array(total);
  const lengths = new Uint32Array(total);
  const texts: string[] = new Array(total);
  let i = 0;
  for (const group of batch.events ?? []) {
    for (const event of group.events) {
      sequences[i] = event.sequence;
      lengths[i] = event.json.length;
      texts[i] = event.json;
      i++;
    }
  }
  return {
    handlers: batch.handlers && packRecords(batch.handlers),
    states: batch.states && pairs(batch.states),
    inboxDone: batch.inboxDone,
    inboxAdd: batch.inboxAdd,
    keys: batch.keys,
    keyAnswers: batch.keyAnswers,
    startEvents: batch.startEvents && pairs(batch.startEvents),
    groups,
    sequences,
    lengths,
    texts: texts.join(""),
  };
}

export function unpackBatch(packed: PackedBatch): WriteBatch {
  const events: NonNullable<CommitBatch["events"]> = [];
  let i = 0;
  let offset = 0;
  for (let g = 0; g < packed.groups.length; g += 2) {
    const count = packed.groups[g + 1] as number;
    const rows = new Array<{ sequence: number; json: string }>(count);
    for (let k = 0; k < count; k++, i++) {
      const length = packed.lengths[i] as number;
      rows[k] = {
        sequence: packed.sequences[i] as number,
        json: packed.texts.slice(offset, offset + length),
      };
      offset += length;
    }
    events.push({ handlerId: packed.groups[g] as string, events: rows });
  }
  return {
    handlers: packed.handlers && unpackRecords(packed.handlers),
    events,
    states: packed.states && unpairs(packed.states),
    inboxDone: packed.inboxDone,
    inboxAdd: packed.inboxAdd,
    keys: packed.keys,
    keyAnswers: packed.keyAnswers,
    startEvents: packed.startEvents && unpairs(packed.startEvents),
  };
}

function packRecords(records: readonly HandlerRecord[]): unknown[] {
  const flat: unknown[] = new Array(records.length * WRITTEN_FIELDS.length);
  let i = 0;
  for (const record of records) {
    for (const field of WRITTEN_FIELDS) flat[i++] = record[field];
  }
  return flat;
}

function unpackRecords(flat: unknown[]): WrittenRecord[] {
  const records: WrittenRecord[] = [];
  for (let i = 0; i < flat.length; i += WRITTEN_FIELDS.length) {
    const record: Record<string, unknown> = {};
    for (let k = 0; k < WRITTEN_FIELDS.length; k++) record[WRITTEN_FIELDS[k] as string] = flat[i + k];
    records.push(record as unknown as WrittenRecord);
  }
  return records;
}

function pairs(list: readonly { handlerId: string; json: string }[]): string[] {
  const flat: string[] = new Array(list.length * 2);
  for (let i = 0; i < list.length; i++) {
    const item = list[i] as { handlerId: string; json: string };
    flat[2 * i] = item.handlerId;
    flat[2 * i + 1] = item.json;
  }
  return flat;
}

function unpairs(flat: readonly string[]): { handlerId: string; json: string }[] {
  const list: { handlerId: string; json: string }[] = new Array(flat.length / 2);
  for (let i = 0; i < list.length; i++)
    list[i] = { handlerId: flat[2 * i] as string, json: flat[2 * i + 1] as string };
  return list;
}

/** A write for the writer thread. */
export type WriterCall =
  | { op: "commit"; batch: PackedBatch }
  | { op: "deleteEnded"; cutoffs: EndedCutoffs; limit: number }
  | { op: "reclaimSpace"; pages: number }
  | { op: "prepareRetention" }
  | { op: "admitQueued"; limitKey: string; limit: number }
  | { op: "appendInbox"; handlerId: string; item: InboxItem; key?: IdempotencyRecord | undefined }
  | { op: "deleteHandler"; handlerId: string; key?: IdempotencyRecord | undefined }
  | { op: "putKey"; record: IdempotencyRecord }
  | { op: "claimScheduleFire"; claim: ScheduleClaim }
  | { op: "deleteKeys"; createdBefore: string; limit: number }
  | { op: "probe" }
  | { op: "close" };

/** A call as it is sent: `id` pairs it with its reply. */
export type WriterRequest = WriterCall & { id: number };

export type WriterReply = { id: number } & ({ ok: true; value: unknown } | { ok: false; error: WireError });

/** An error as it crosses the thread boundary: structured clone keeps neither classes nor `code`. */
export type WireError =
  | { kind: "SequenceConflict"; handlerId: string; sequence: number }
  | { kind: "DuplicateInboxItem"; handlerId: string; itemId: string }
  | { kind: "IdempotencyKeyConflict"; key: string; handlerId: string | null }
  | { kind: "Sqlite"; message: string; code: string }
  | { kind: "StoreUnavailable"; message: string }
  | { kind: "RangeError" | "TypeError" | "Error"; message: string };

export function toWire(error: unknown): WireError {
  if (error instanceof SequenceConflictError) {
    return { kind: "SequenceConflict", handlerId: error.handlerId, sequence: error.sequence };
  }
  if (error instanceof DuplicateInboxItemError) {
    return { kind: "DuplicateInboxItem", handlerId: error.handlerId, itemId: error.itemId };
  }
  if (error instanceof IdempotencyKeyConflictError) {
    return { kind: "IdempotencyKeyConflict", key: error.key, handlerId: error.handlerId };
  }
  if (error instanceof Database.SqliteError)
    return { kind: "Sqlite", message: error.message, code: error.code };
  if (error instanceof WorkflowError && error.code === "STORE_UNAVAILABLE")
    return { kind: "StoreUnavailable", message: error.message };
  if (error instanceof RangeError) return { kind: "RangeError", message: error.message };
  if (error instanceof TypeError) return { kind: "TypeError", message: error.message };
  return { kind: "Error", message: error instanceof Error ? error.message : String(error) };
}

/** The error the caller would have got from a write on its own thread. */
export function fromWire(error: WireError): Error {
  switch (error.kind) {
    case "SequenceConflict":
      return new SequenceConflictError(error.handlerId, error.sequence);
    case "DuplicateInboxItem":
      return new DuplicateInboxItemError(error.handlerId, error.itemId);
    case "IdempotencyKeyConflict":
      return new IdempotencyKeyConflictError(error.key, error.handlerId);
    case "Sqlite":
      return new Database.SqliteError(error.message, error.code);
    case "StoreUnavailable":
      return new WorkflowError("STORE_UNAVAILABLE", error.message);
    case "RangeError":
      return new RangeError(error.message);
    case "TypeError":
      return new TypeError(error.message);
    default:
      return new Error(error.message);
  }
}
