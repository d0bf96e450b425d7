import type { IdempotencyRecord } from "../../stores/idempotency.js";

/**
 * An idempotency key's record on its way to the store with the change it answers for: the commit
 * writer (or the store call) that carries it says whether it was stored or dropped.
 */
export class KeyWrite {
  readonly record: IdempotencyRecord;
  #state: "pending" | "stored" | "dropped" = "pending";
  #error: unknown = null;
  #settle: () => void = () => {};
  /** Resolves once the record was stored or dropped; never rejects. */
  readonly settled: Promise<void>;

  constructor(record: IdempotencyRecord) {
    this.record = record;
    this.settled = new Promise((resolve) => {
      this.#settle = resolve;
    });
  }

  get state(): "pending" | "stored" | "dropped" {
    return this.#state;
  }

  /** Why it was dropped (null otherwise). */
  get error(): unknown {
    return this.#error;
  }

  /** The record is durable, with its change. */
  stored(): void {
    if (this.#state !== "pending") return;
    this.#state = "stored";
    this.#settle();
  }

  /** Neither the record nor its change will be stored (a conflict, a handler taken over or deleted). */
  dropped(error: unknown): void {
    if (this.#state !== "pending") return;
    this.#state = "dropped";
    this.#error = error;
    this.#settle();
  }

  /** Runs a store call that writes the record; settles this write by its outcome. */
  async through<T>(write: (record: IdempotencyRecord) => Promise<T>): Promise<T> {
    try {
      const value = await write(this.record);
      this.stored();
      return value;
    } catch (error) {
      // Even when the write's outcome is unknown (a connection lost around COMMIT), the next request
      // with the key is safe: it reads the key, or writes it again and meets the stored one.
      this.dropped(error);
      throw error;
    }
  }
}
