/**
 * A Map for long-lived collections whose entries come and go with every run (the runs in memory,
 * the waiters on their ends): deleting an entry lets go of its value at once.
 *
 * Why not a plain Map: V8 grows and compacts a Map by copying its entries into a new table, and the
 * old table keeps its entries and a link to the new one. Once a table has lived long enough to be in
 * the old generation, each table after it is kept alive by the one before until the next full
 * collection, and with them every value they ever held: each run's objects got promoted and
 * collected by major GCs (6 KB a request, with tracing on; see bench/README.md). Here the tables
 * hold boxes that are emptied on delete, so an old table keeps a box and a key, not a run.
 */
export class ReleasingMap<K, V> {
  readonly #boxes = new Map<K, { value: V }>();

  get size(): number {
    return this.#boxes.size;
  }

  get(key: K): V | undefined {
    return this.#boxes.get(key)?.value;
  }

  has(key: K): boolean {
    return this.#boxes.has(key);
  }

  set(key: K, value: V): this {
    const box = this.#boxes.get(key);
    if (box) box.value = value;
    else this.#boxes.set(key, { value });
    return this;
  }

  delete(key: K): boolean {
    const box = this.#boxes.get(key);
    if (!box) return false;
    box.value = undefined as V;
    return this.#boxes.delete(key);
  }

  clear(): void {
    for (const box of this.#boxes.values()) box.value = undefined as V;
    this.#boxes.clear();
  }

  keys(): MapIterator<K> {
    return this.#boxes.keys();
  }

  *values(): Generator<V, undefined, unknown> {
    for (const box of this.#boxes.values()) yield box.value;
  }

  /** Entries in insertion order; deleting while iterating is allowed, as with a Map. */
  *[Symbol.iterator](): Generator<[K, V], undefined, unknown> {
    for (const [key, box] of this.#boxes) yield [key, box.value];
  }
}
