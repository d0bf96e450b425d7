import { beforeEach, describe, expect, it } from "vitest";
import type { Store } from "../../stores/store.js";
import { handlerRecord, iso } from "./fixtures.js";

const A = '["llm","tenant-a"]';
const B = '["llm","tenant-b"]';

/** A queued handler of `key` started at `offsetMs`. */
const queued = (id: string, key: string, offsetMs: number) =>
  handlerRecord(id, { limitKey: key, queued: true, startedAt: iso(offsetMs) });

/** The contract of run limits: admitQueued, queuePosition, queuedKeys (round 2 §7). */
export function runQueueContract(current: () => Store): void {
  let store!: Store;
  beforeEach(() => {
    store = current();
  });

  describe("run limits", () => {
    it("admits the oldest queued handlers of a key while fewer than the limit run, and no more", async () => {
      await store.commit({
        handlers: [
          handlerRecord("running", { limitKey: A, startedAt: iso(0) }),
          queued("q3", A, 3),
          queued("q1", A, 1),
          queued("q2b", A, 2),
          queued("q2a", A, 2),
          queued("other", B, 0),
        ],
      });
      expect(await store.admitQueued(A, 3)).toEqual(["q1", "q2a"]);
      expect(await store.getHandler("q1")).toEqual({ ...queued("q1", A, 1), queued: false });
      expect(await store.admitQueued(A, 3)).toEqual([]);
      expect((await store.getHandler("q2b"))?.queued).toBe(true);
      // An ended handler frees its place; a handler of another key counts for its own only.
      await store.commit({
        handlers: [handlerRecord("running", { limitKey: A, status: "completed", completedAt: iso(5) })],
      });
      expect(await store.admitQueued(A, 3)).toEqual(["q2b"]);
      expect(await store.admitQueued(B, 1)).toEqual(["other"]);
      expect(await store.admitQueued("none", 5)).toEqual([]);
    });

    it("never admits past the limit when many admissions race", async () => {
      await store.commit({ handlers: Array.from({ length: 20 }, (_, i) => queued(`q${i}`, A, i)) });
      const admitted = (await Promise.all(Array.from({ length: 10 }, () => store.admitQueued(A, 3)))).flat();
      expect(admitted.sort()).toEqual(["q0", "q1", "q2"]);
    });

    it("gives a queued handler's place in its key's queue, 1 first; null when not queued", async () => {
      await store.commit({
        handlers: [
          queued("q2", A, 2),
          queued("q1", A, 1),
          queued("b1", B, 0),
          handlerRecord("admitted", { limitKey: A }),
          handlerRecord("plain"),
          { ...queued("gone", A, 0), status: "cancelled", completedAt: iso(3) },
        ],
      });
      expect(await store.queuePosition("q1")).toBe(1);
      expect(await store.queuePosition("q2")).toBe(2);
      expect(await store.queuePosition("b1")).toBe(1);
      expect(await store.queuePosition("admitted")).toBeNull();
      expect(await store.queuePosition("plain")).toBeNull();
      expect(await store.queuePosition("gone")).toBeNull();
      expect(await store.queuePosition("missing")).toBeNull();
    });

    it("lists the keys that have queued running handlers", async () => {
      await store.commit({
        handlers: [queued("a1", A, 0), queued("a2", A, 1), handlerRecord("b", { limitKey: B })],
      });
      expect(await store.queuedKeys(10)).toEqual([A]);
      await store.commit({ handlers: [queued("b2", B, 2)] });
      expect((await store.queuedKeys(10)).sort()).toEqual([A, B]);
      expect(await store.queuedKeys(1)).toHaveLength(1);
    });
  });
}
