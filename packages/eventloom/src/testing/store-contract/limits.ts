import { beforeEach, describe, expect, it } from "vitest";
import type { BlockedInfo } from "../../protocol/codec.js";
import { eventRows, type HandlerRecord, type Store, stateJson } from "../../stores/store.js";
import { handlerRecord, inboxItem, iso, publishedEvent, runState } from "./fixtures.js";

const blocked: BlockedInfo = {
  code: "SCHEMA_CHANGED",
  detail: 'event "Ask" at queues.answer.0 no longer fits its schema: n: expected string',
  since: iso(5000),
};

const ended = (id: string, status: "completed" | "failed" | "cancelled", completedAtMs: number) =>
  handlerRecord(id, {
    status,
    startedAt: iso(completedAtMs - 100),
    updatedAt: iso(completedAtMs),
    completedAt: iso(completedAtMs),
  });

/**
 * The contract of what round 2's limits added to a handler: `blocked` and `workflowVersion` kept as
 * written, the `blocked` filter and the result cap of listings, and retention's `deleteEnded`
 * (checked when the store has it). `current` gives the store the suite opened for the test.
 */
export function limitsContract(current: () => Store): void {
  let store!: Store;
  beforeEach(() => {
    store = current();
  });

  describe("blocked and workflowVersion", () => {
    it("keeps a record's blocked object and workflow version, and clears blocked when a record without it replaces it", async () => {
      await store.commit({ handlers: [handlerRecord("a", { blocked, workflowVersion: "2" })] });
      expect(await store.getHandler("a")).toEqual(handlerRecord("a", { blocked, workflowVersion: "2" }));
      expect(await store.listRunning()).toEqual([handlerRecord("a", { blocked, workflowVersion: "2" })]);

      await store.commit({ handlers: [handlerRecord("a", { workflowVersion: "2" })] });
      expect((await store.getHandler("a"))?.blocked).toBeNull();
    });

    it("reads a record written without the fields with both null", async () => {
      const { workflowVersion: _v, blocked: _b, ...bare } = handlerRecord("a");
      await store.commit({ handlers: [bare as HandlerRecord] });
      expect(await store.getHandler("a")).toMatchObject({ workflowVersion: null, blocked: null });
    });

    it("lists only blocked handlers with blocked: true, only the others with false", async () => {
      await store.commit({
        handlers: [
          handlerRecord("free", { startedAt: iso(0) }),
          handlerRecord("stuck-1", { startedAt: iso(1), blocked }),
          handlerRecord("stuck-2", { startedAt: iso(2), blocked }),
        ],
      });
      const ids = async (b: boolean | undefined) =>
        (await store.listHandlers(b === undefined ? { limit: 10 } : { limit: 10, blocked: b })).handlers.map(
          (h) => h.handlerId,
        );
      expect(await ids(true)).toEqual(["stuck-2", "stuck-1"]);
      expect(await ids(false)).toEqual(["free"]);
      expect(await ids(undefined)).toEqual(["stuck-2", "stuck-1", "free"]);
      const page = await store.listHandlers({ limit: 1, blocked: true });
      expect(page.handlers.map((h) => h.handlerId)).toEqual(["stuck-2"]);
      const next = await store.listHandlers({ limit: 1, blocked: true, cursor: page.nextCursor });
      expect(next.handlers.map((h) => h.handlerId)).toEqual(["stuck-1"]);
      expect(next.nextCursor).toBeNull();
    });
  });

  describe("listHandlers with maxResultBytes", () => {
    it("leaves out results longer than the cap (in UTF-8 bytes) and marks them, keeping the others whole", async () => {
      const small = { text: "é".repeat(10) }; // 33 bytes of JSON, 23 characters
      const big = { text: "é".repeat(40) };
      await store.commit({
        handlers: [
          handlerRecord("small", { status: "completed", result: small, startedAt: iso(0) }),
          handlerRecord("big", { status: "completed", result: big, startedAt: iso(1) }),
          handlerRecord("none", { startedAt: iso(2) }),
        ],
      });
      const page = await store.listHandlers({ limit: 10, maxResultBytes: 40 });
      expect(page.handlers).toEqual([
        handlerRecord("none", { startedAt: iso(2) }),
        handlerRecord("big", { status: "completed", result: null, startedAt: iso(1), resultTruncated: true }),
        handlerRecord("small", { status: "completed", result: small, startedAt: iso(0) }),
      ]);
      // Bytes, not characters: 23 characters but 33 bytes does not fit 30.
      const tight = await store.listHandlers({ limit: 10, maxResultBytes: 30 });
      expect(tight.handlers.find((h) => h.handlerId === "small")).toMatchObject({
        result: null,
        resultTruncated: true,
      });
      expect(await store.getHandler("big")).toMatchObject({ result: big });
      expect((await store.getHandler("big"))?.resultTruncated).toBeUndefined();
    });
  });

  describe("listHandlers with maxErrorBytes", () => {
    it("cuts an error longer than the cap (in UTF-8 bytes) to its first cap/4 characters and marks it, keeping the others whole", async () => {
      const long = `Step "s" failed: ${"é".repeat(100)}😀 end`; // far over 40 bytes
      const short = 'Step "s" failed: é'; // 18 characters, 19 bytes
      await store.commit({
        handlers: [
          handlerRecord("long", { status: "failed", error: long, startedAt: iso(0) }),
          handlerRecord("short", { status: "failed", error: short, startedAt: iso(1) }),
          handlerRecord("none", { startedAt: iso(2) }),
        ],
      });
      const page = await store.listHandlers({ limit: 10, maxErrorBytes: 40, maxResultBytes: 4096 });
      expect(page.handlers).toEqual([
        handlerRecord("none", { startedAt: iso(2) }),
        handlerRecord("short", { status: "failed", error: short, startedAt: iso(1) }),
        handlerRecord("long", {
          status: "failed",
          error: Array.from(long).slice(0, 10).join(""),
          errorTruncated: true,
          startedAt: iso(0),
        }),
      ]);
      // Bytes, not characters: 18 characters but 19 bytes does not fit 18.
      const tight = await store.listHandlers({ limit: 10, maxErrorBytes: 18 });
      expect(tight.handlers.find((h) => h.handlerId === "short")).toMatchObject({
        error: "Step",
        errorTruncated: true,
      });
      expect(await store.getHandler("long")).toMatchObject({ error: long });
      expect((await store.getHandler("long"))?.errorTruncated).toBeUndefined();
      expect((await store.listHandlers({ limit: 10 })).handlers.at(-1)?.error).toBe(long);
    });
  });

  describe("readEventRows with maxBytes", () => {
    it("stops after the row that brings the page to maxBytes of JSON text, and gives at least one row", async () => {
      const big = (n: number) => publishedEvent(n, { pad: "x".repeat(1000) });
      await store.commit({
        handlers: [handlerRecord("h")],
        events: [{ handlerId: "h", events: eventRows([0, 1, 2, 3, 4].map(big)) }],
      });
      const length = eventRows([big(0)])[0]?.json.length ?? 0;
      const seqs = async (after: number, maxBytes: number) =>
        (await store.readEventRows("h", after, 10, maxBytes)).map((r) => r.sequence);
      expect(await seqs(-1, 2 * length + 1)).toEqual([0, 1, 2]);
      expect(await seqs(-1, 2 * length)).toEqual([0, 1]);
      expect(await seqs(1, 1)).toEqual([2]);
      expect(await seqs(-1, 100 * length)).toEqual([0, 1, 2, 3, 4]);
      expect((await store.readEventRows("h", -1, 2, 100 * length)).map((r) => r.sequence)).toEqual([0, 1]);
    });
  });

  describe("deleteEnded", () => {
    const seed = async (record: HandlerRecord) => {
      await store.commit({
        handlers: [record],
        events: [{ handlerId: record.handlerId, events: eventRows([publishedEvent(0), publishedEvent(1)]) }],
        states: [{ handlerId: record.handlerId, json: stateJson(runState()) }],
      });
      await store.appendInbox(record.handlerId, inboxItem("i"));
    };

    it("deletes the ended handlers due for their status with everything stored for them, oldest first, and nothing else", async () => {
      if (!store.deleteEnded) return;
      await seed(ended("done-old", "completed", 1000));
      await seed(ended("failed-old", "failed", 1500));
      await seed(ended("cancelled-old", "cancelled", 1200));
      await seed(ended("done-new", "completed", 9000));
      await seed(handlerRecord("running", { startedAt: iso(0) }));
      await seed({ ...ended("failed-blocked", "failed", 1000), blocked });

      const cutoff = iso(5000);
      const deleted = await store.deleteEnded({ completed: cutoff, failed: cutoff }, 10);
      expect(deleted).toEqual(["done-old", "failed-old"]);
      for (const id of deleted) {
        expect(await store.getHandler(id)).toBeNull();
        expect(await store.readEvents(id, -1, 10)).toEqual([]);
        expect(await store.loadState(id)).toBeNull();
        expect(await store.readInbox(id)).toEqual([]);
      }
      for (const id of ["cancelled-old", "done-new", "running", "failed-blocked"]) {
        expect(await store.getHandler(id)).not.toBeNull();
        expect(await store.lastSequence(id)).toBe(1);
      }
      expect(await store.deleteEnded({ completed: cutoff, failed: cutoff }, 10)).toEqual([]);
    });

    it("deletes at most limit handlers a call, the oldest first", async () => {
      if (!store.deleteEnded) return;
      for (let i = 0; i < 5; i++) await seed(ended(`h${i}`, "completed", 1000 + (4 - i) * 10));
      const cutoffs = { completed: iso(5000) };
      expect(await store.deleteEnded(cutoffs, 2)).toEqual(["h4", "h3"]);
      expect(await store.deleteEnded(cutoffs, 2)).toEqual(["h2", "h1"]);
      expect(await store.deleteEnded(cutoffs, 2)).toEqual(["h0"]);
      expect((await store.listHandlers({ limit: 10 })).handlers).toEqual([]);
    });

    it("keeps a handler continued since it ended: it is running again", async () => {
      if (!store.deleteEnded) return;
      await seed(ended("again", "completed", 1000));
      await store.commit({ handlers: [handlerRecord("again", { runId: "run-2", startedAt: iso(2000) })] });
      expect(await store.deleteEnded({ completed: iso(5000) }, 10)).toEqual([]);
      expect(await store.getHandler("again")).toMatchObject({ status: "running" });
    });

    it("drops the stored answers of the idempotency keys that name a deleted handler, and keeps the keys", async () => {
      if (!store.deleteEnded) return;
      const key = (k: string, handlerId: string | null, status: number | null) => ({
        key: k,
        fingerprint: `fp-${k}`,
        handlerId,
        runId: handlerId === null ? null : "run-1",
        status,
        body: status === null ? null : JSON.stringify({ result: "x".repeat(1000) }),
        createdAt: iso(900),
      });
      await seed(ended("old", "completed", 1000));
      await seed(ended("new", "completed", 9000));
      await store.commit({
        keys: [key("k-old", "old", 200), key("k-old-2", "old", 200), key("k-new", "new", 200)],
      });
      await store.putIdempotencyKey(key("k-none", null, 422));

      expect(await store.deleteEnded({ completed: iso(5000) }, 10)).toEqual(["old"]);
      for (const k of ["k-old", "k-old-2"]) {
        expect(await store.getIdempotencyKey(k)).toEqual({ ...key(k, "old", null), runId: "run-1" });
      }
      expect(await store.getIdempotencyKey("k-new")).toEqual(key("k-new", "new", 200));
      expect(await store.getIdempotencyKey("k-none")).toEqual(key("k-none", null, 422));

      // An answer that comes after retention deleted its handler is not stored either.
      await store.commit({
        keyAnswers: [{ key: "k-old", fingerprint: "fp-k-old", status: 200, body: "{}" }],
      });
      expect((await store.getIdempotencyKey("k-old"))?.status).toBeNull();
    });

    it("rejects a limit outside 1..1000", async () => {
      if (!store.deleteEnded) return;
      await expect(store.deleteEnded({ completed: iso(0) }, 0)).rejects.toThrow(RangeError);
    });
  });
}
