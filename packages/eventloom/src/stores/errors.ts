import { WorkflowError } from "../core/index.js";

// The errors every store throws, whatever keeps its data (see the Store contract in store.ts).

/** Thrown by a store for a cursor it did not issue (garbage, tampered with, or of another format). */
export class InvalidCursorError extends WorkflowError {
  declare readonly code: "INVALID_CURSOR";
  constructor(message = "Invalid cursor", options: { cause?: unknown } = {}) {
    super("INVALID_CURSOR", message, options);
  }
}

/**
 * Thrown by `commit` when a batch holds an event whose sequence is already stored for its handler
 * (or appears twice in the batch). Nothing of the batch was written. Another writer claimed the
 * sequence first: read `lastSequence` again and retry.
 */
export class SequenceConflictError extends Error {
  readonly code = "SEQUENCE_CONFLICT";
  readonly handlerId: string;
  readonly sequence: number;
  constructor(handlerId: string, sequence: number, options: { cause?: unknown } = {}) {
    super(`Sequence ${sequence} of handler "${handlerId}" is already stored`, options);
    this.name = "SequenceConflictError";
    this.handlerId = handlerId;
    this.sequence = sequence;
  }
}

/** Thrown by `appendInbox` when the handler already has an inbox item with that id. Nothing was written. */
export class DuplicateInboxItemError extends Error {
  readonly code = "DUPLICATE_INBOX_ITEM";
  readonly handlerId: string;
  readonly itemId: string;
  constructor(handlerId: string, itemId: string, options: { cause?: unknown } = {}) {
    super(`Inbox item "${itemId}" of handler "${handlerId}" is already stored`, options);
    this.name = "DuplicateInboxItemError";
    this.handlerId = handlerId;
    this.itemId = itemId;
  }
}

/** Thrown by every method of a store after `close()` (`code` STORE_UNAVAILABLE). */
export class StoreClosedError extends WorkflowError {
  constructor() {
    super("STORE_UNAVAILABLE", "The store is closed");
  }
}
