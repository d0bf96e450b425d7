import type { RunState } from "../../core/index.js";
import type { HandlerRecord, InboxItem } from "../store.js";
import type { Connections } from "./connections.js";
import { toRecord } from "./rows.js";
import type { HandlerRow, Statements } from "./statements.js";

interface Waiting<V> {
  resolve: (value: V) => void;
  reject: (error: unknown) => void;
}

/**
 * Group reads: the reads of one kind asked for during one turn of the event loop go to the database in
 * one statement over all their handlers (`handler_id = ANY($1)`), as {@link LeaseBatches} does for
 * leases. Many runs woken together (a burst of timers coming due, a takeover) then cost a few
 * statements, not a few each. A read is sent after it is asked for, never before: it sees every write
 * that was durable when it was asked.
 */
export class ReadBatch<V> {
  readonly #send: (handlerIds: string[]) => Promise<Map<string, V>>;
  readonly #missing: V;
  #wanted: Map<string, Waiting<V>[]> | null = null;

  /** `send` reads the given handlers; one it leaves out reads as `missing`. */
  constructor(send: (handlerIds: string[]) => Promise<Map<string, V>>, missing: V) {
    this.#send = send;
    this.#missing = missing;
  }

  read(handlerId: string): Promise<V> {
    if (this.#wanted === null) {
      this.#wanted = new Map();
      setImmediate(() => this.#flush());
    }
    const wanted = this.#wanted;
    return new Promise((resolve, reject) => {
      const list = wanted.get(handlerId);
      if (list) list.push({ resolve, reject });
      else wanted.set(handlerId, [{ resolve, reject }]);
    });
  }

  #flush(): void {
    const wanted = this.#wanted;
    this.#wanted = null;
    if (wanted === null) return;
    this.#send([...wanted.keys()]).then(
      (found) => {
        for (const [id, list] of wanted) for (const w of list) w.resolve(found.get(id) ?? this.#missing);
      },
      (error: unknown) => {
        for (const list of wanted.values()) for (const w of list) w.reject(error);
      },
    );
  }
}

/**
 * The store's grouped reads: a handler's record, its state and its inbox (statements `getHandler`,
 * `loadState` and `readInbox`, each over an array of handlers). `db` and `sql` are read when a group
 * is sent.
 */
export function groupedReads(db: () => Connections, sql: () => Statements) {
  return {
    handler: new ReadBatch<HandlerRecord | null>(async (ids) => {
      const { rows } = await db().query<HandlerRow>(sql().getHandler, [ids]);
      return new Map(rows.map((r) => [r.handler_id, toRecord(r)]));
    }, null),
    state: new ReadBatch<RunState | null>(async (ids) => {
      const { rows } = await db().query<{ handler_id: string; state: string }>(sql().loadState, [ids]);
      return new Map(rows.map((r) => [r.handler_id, JSON.parse(r.state) as RunState]));
    }, null),
    inbox: new ReadBatch<InboxItem[]>(async (ids) => {
      const { rows } = await db().query<{ handler_id: string; item: string }>(sql().readInbox, [ids]);
      return byHandler(rows, (r) => JSON.parse(r.item) as InboxItem);
    }, []),
  };
}

/** Rows grouped by their handler, in the order they came. */
function byHandler<R extends { handler_id: string }, V>(rows: R[], value: (row: R) => V): Map<string, V[]> {
  const out = new Map<string, V[]>();
  for (const row of rows) {
    const list = out.get(row.handler_id);
    if (list) list.push(value(row));
    else out.set(row.handler_id, [value(row)]);
  }
  return out;
}
