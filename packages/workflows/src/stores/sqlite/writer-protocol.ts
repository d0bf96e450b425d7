import Database from "better-sqlite3";
import {
  type CommitBatch,
  DuplicateInboxItemError,
  type InboxItem,
  SequenceConflictError,
} from "../store.js";
import type { ConnectionOptions } from "./writes.js";

/** What the writer thread is started with. */
export interface WriterData {
  path: string;
  options: ConnectionOptions;
}

/** A write for the writer thread. */
export type WriterCall =
  | { op: "commit"; batch: CommitBatch }
  | { op: "appendInbox"; handlerId: string; item: InboxItem }
  | { op: "deleteHandler"; handlerId: string }
  | { op: "close" };

/** A call as it is sent: `id` pairs it with its reply. */
export type WriterRequest = WriterCall & { id: number };

export type WriterReply = { id: number } & ({ ok: true; value: unknown } | { ok: false; error: WireError });

/** An error as it crosses the thread boundary: structured clone keeps neither classes nor `code`. */
export type WireError =
  | { kind: "SequenceConflict"; handlerId: string; sequence: number }
  | { kind: "DuplicateInboxItem"; handlerId: string; itemId: string }
  | { kind: "Sqlite"; message: string; code: string }
  | { kind: "RangeError" | "TypeError" | "Error"; message: string };

export function toWire(error: unknown): WireError {
  if (error instanceof SequenceConflictError) {
    return { kind: "SequenceConflict", handlerId: error.handlerId, sequence: error.sequence };
  }
  if (error instanceof DuplicateInboxItemError) {
    return { kind: "DuplicateInboxItem", handlerId: error.handlerId, itemId: error.itemId };
  }
  if (error instanceof Database.SqliteError)
    return { kind: "Sqlite", message: error.message, code: error.code };
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
    case "Sqlite":
      return new Database.SqliteError(error.message, error.code);
    case "RangeError":
      return new RangeError(error.message);
    case "TypeError":
      return new TypeError(error.message);
    default:
      return new Error(error.message);
  }
}
