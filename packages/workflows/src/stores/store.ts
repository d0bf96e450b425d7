import type { PublishedEvent, RunState, RunStatus, WorkflowEvent } from "../core/index.js";

/** What the server keeps about a handler: the `HandlerData` of the wire, in camelCase. */
export interface HandlerRecord {
  handlerId: string;
  workflowName: string;
  runId: string;
  status: RunStatus;
  result: unknown;
  error: string | null;
  /** ISO 8601 UTC with milliseconds. */
  startedAt: string;
  updatedAt: string;
  completedAt: string | null;
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

/** Writes of any number of handlers, applied atomically: all of them or none. */
export interface CommitBatch {
  /** Inserted or replaced whole, by `handlerId`. */
  handlers?: HandlerRecord[];
  /**
   * Appended to each handler's event log. Sequences are assigned by the engine; a store rejects
   * (throws, committing nothing) a sequence that is already stored for that handler.
   */
  events?: { handlerId: string; events: PublishedEvent[] }[];
  /** Each handler's run state, replacing the previous one. */
  states?: { handlerId: string; state: RunState }[];
  /** Inbox items the run has taken into its state; deleted in the same transaction. */
  inboxDone?: { handlerId: string; ids: string[] }[];
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
}

export interface HandlerPage {
  /** Newest first (by `startedAt`, then `handlerId`). */
  handlers: HandlerRecord[];
  /** Opaque; null when there is no more. */
  nextCursor: string | null;
}

/** Thrown by a store for a cursor it did not issue. */
export class InvalidCursorError extends Error {
  readonly code = "INVALID_CURSOR";
}

/**
 * Where a server keeps everything durable: handlers, every published event, each run's state and
 * the events sent into it. One interface, one contract suite (`contract-suite.ts`), several stores.
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
  /** Handlers whose status is `running`, for resuming them after a start. */
  listRunning(): Promise<HandlerRecord[]>;

  /** Events with `sequence > afterSequence`, in order, at most `limit` of them. */
  readEvents(handlerId: string, afterSequence: number, limit: number): Promise<PublishedEvent[]>;
  /** The highest stored sequence of the handler, or -1. */
  lastSequence(handlerId: string): Promise<number>;

  loadState(handlerId: string): Promise<RunState | null>;

  /** Durably records an event sent into a handler (resolves once it is on disk). */
  appendInbox(handlerId: string, item: InboxItem): Promise<void>;
  /** The handler's pending inbox items, oldest first. */
  readInbox(handlerId: string): Promise<InboxItem[]>;

  /** Deletes the handler and everything stored for it. Resolves false when it did not exist. */
  deleteHandler(handlerId: string): Promise<boolean>;

  /**
   * Calls `listener` with the ids of handlers that got new events, inbox items or a new record,
   * after the write is durable: this process's own commits and, for a shared store, other
   * processes' too. Returns an unsubscribe function.
   */
  subscribe(listener: (handlerIds: readonly string[]) => void): () => void;
}
