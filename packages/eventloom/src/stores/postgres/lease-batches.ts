import type { Lease } from "../leases.js";
import type { Connections } from "./connections.js";
import { toLease } from "./rows.js";
import type { LeaseRow, Statements } from "./statements.js";

interface Wanted {
  handlerId: string;
  resolve: (lease: Lease | null) => void;
  reject: (error: unknown) => void;
}

/**
 * Group acquisition of leases: the acquisitions one owner asks for during one turn of the event loop
 * (with the same ttl) go to the database in one statement, as a group commit does for writes, instead
 * of one durable transaction each. A handler asked for twice in a turn goes in the next statement.
 */
export class LeaseBatches {
  readonly #send: (owner: string, ttlMs: number, handlerIds: string[]) => Promise<Lease[]>;
  readonly #batches = new Map<string, { owner: string; ttlMs: number; wanted: Map<string, Wanted[]> }>();

  constructor(send: (owner: string, ttlMs: number, handlerIds: string[]) => Promise<Lease[]>) {
    this.#send = send;
  }

  acquire(handlerId: string, owner: string, ttlMs: number): Promise<Lease | null> {
    const key = JSON.stringify([owner, ttlMs]);
    let batch = this.#batches.get(key);
    if (!batch) {
      batch = { owner, ttlMs, wanted: new Map() };
      this.#batches.set(key, batch);
      setImmediate(() => this.#flush(key));
    }
    const list = batch.wanted.get(handlerId) ?? [];
    batch.wanted.set(handlerId, list);
    return new Promise((resolve, reject) => list.push({ handlerId, resolve, reject }));
  }

  #flush(key: string): void {
    const batch = this.#batches.get(key);
    if (!batch) return;
    this.#batches.delete(key);
    // The first asker of each handler goes now; a second one of the same turn waits for the next.
    const now: Wanted[] = [];
    for (const [, list] of batch.wanted) {
      now.push(list[0] as Wanted);
      for (const later of list.slice(1))
        this.acquire(later.handlerId, batch.owner, batch.ttlMs).then(later.resolve, later.reject);
    }
    this.#send(
      batch.owner,
      batch.ttlMs,
      now.map((w) => w.handlerId),
    ).then(
      (leases) => {
        const byId = new Map(leases.map((l) => [l.handlerId, l]));
        for (const w of now) w.resolve(byId.get(w.handlerId) ?? null);
      },
      (error: unknown) => {
        for (const w of now) w.reject(error);
      },
    );
  }
}

/** One statement of {@link LeaseBatches}: the leases of `handlerIds` that `owner` could take. */
export async function acquireLeases(
  db: Connections,
  sql: Statements,
  owner: string,
  ttlMs: number,
  handlerIds: string[],
): Promise<Lease[]> {
  const { rows } = await db.statement<LeaseRow>(sql.acquireLease, [handlerIds, owner, String(ttlMs)]);
  return rows.map(toLease);
}

/** Renews the leases `owner` holds of `handlerIds`; resolves with those it no longer held (lost). */
export async function renewLeases(
  db: Connections,
  sql: Statements,
  owner: string,
  handlerIds: readonly string[],
  ttlMs: number,
): Promise<string[]> {
  if (handlerIds.length === 0) return [];
  const args = [owner, [...handlerIds], String(Math.ceil(ttlMs))];
  const { rows } = await db.query<{ handler_id: string }>(sql.renewLeases, args);
  const renewed = new Set(rows.map((r) => r.handler_id));
  return [...new Set(handlerIds)].filter((id) => !renewed.has(id));
}
