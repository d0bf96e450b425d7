import type { Clock } from "../../core/index.js";
import type { IdempotencyRecord } from "../../stores/idempotency.js";
import { sleep } from "../clock-timers.js";
import { ReleasingMap } from "../releasing-map.js";
import { KeyWrite } from "./key-write.js";

/** What a route gives of the answer its change is: the handler, the run, the status and body. */
export type KeyAnswer = Pick<IdempotencyRecord, "handlerId" | "runId" | "status" | "body">;

/**
 * One request executed under its idempotency key. The route that makes a change calls `write` to
 * get the key's record to store with that change; a route that changes nothing never calls it.
 */
export class KeyTicket {
  readonly key: string;
  readonly fingerprint: string;
  readonly createdAt: string;
  #write: KeyWrite | null = null;

  constructor(key: string, fingerprint: string, createdAt: string) {
    this.key = key;
    this.fingerprint = fingerprint;
    this.createdAt = createdAt;
  }

  /** The key's record for the request's change, made once. */
  write(answer: KeyAnswer): KeyWrite {
    this.#write ??= new KeyWrite({
      key: this.key,
      fingerprint: this.fingerprint,
      createdAt: this.createdAt,
      ...answer,
    });
    return this.#write;
  }

  /** The record made for a change, or null when the request changed nothing. */
  get made(): KeyWrite | null {
    return this.#write;
  }

  /** The record of an answer that changed nothing. */
  record(answer: KeyAnswer): IdempotencyRecord {
    return { key: this.key, fingerprint: this.fingerprint, createdAt: this.createdAt, ...answer };
  }
}

interface InFlight {
  ticket: KeyTicket;
  released: Promise<void>;
  release(): void;
}

/**
 * The keys of the requests this process executes right now, so that a retry that arrives meanwhile
 * waits for the first instead of executing too. Across processes the store's unique key decides.
 */
export class KeyGate {
  readonly #inFlight = new ReleasingMap<string, InFlight>();

  /** The ticket of the request executing with `key` here, if any. */
  executing(key: string): KeyTicket | null {
    return this.#inFlight.get(key)?.ticket ?? null;
  }

  /**
   * Resolves true once the request executing with `key` is done (its key's record stored or given
   * up), false after `ms` when it is not.
   */
  async wait(key: string, ms: number, clock: Clock): Promise<boolean> {
    const entry = this.#inFlight.get(key);
    if (!entry) return true;
    const nap = sleep(clock, ms);
    let done = false;
    await Promise.race([entry.released.then(() => (done = true)), nap.done]);
    nap.wake();
    return done;
  }

  /** Claims `key` for a request executed here; null when another holds it. */
  claim(key: string, fingerprint: string, createdAt: string): KeyTicket | null {
    if (this.#inFlight.has(key)) return null;
    let release = () => {};
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
    const ticket = new KeyTicket(key, fingerprint, createdAt);
    this.#inFlight.set(key, { ticket, released, release });
    return ticket;
  }

  /** The request is done: the key is free once its change's record is stored or dropped. */
  release(ticket: KeyTicket): void {
    const entry = this.#inFlight.get(ticket.key);
    if (entry?.ticket !== ticket) return;
    const free = () => {
      if (this.#inFlight.get(ticket.key) === entry) this.#inFlight.delete(ticket.key);
      entry.release();
    };
    const made = ticket.made;
    if (made && made.state === "pending") void made.settled.then(free);
    else free();
  }

  /** How many keys are executing (tests). */
  get size(): number {
    return this.#inFlight.size;
  }
}
