import { beforeEach, describe, expect, it } from "vitest";
import { IdempotencyKeyConflictError, type IdempotencyRecord } from "../../stores/idempotency.js";
import { eventRows, type Store, stateJson } from "../../stores/store.js";
import { handlerRecord, inboxItem, iso, publishedEvent, runState } from "./fixtures.js";

/** An idempotency record for the contract; every field may be overridden. */
export function keyRecord(key: string, fields: Partial<IdempotencyRecord> = {}): IdempotencyRecord {
  return {
    key,
    fingerprint: `fp-${key}`,
    handlerId: null,
    runId: null,
    status: 200,
    body: '{"status":"sent","n":"é\\u0000"}',
    createdAt: iso(0),
    ...fields,
  };
}

/** What a write that met a stored key rejects with. */
async function conflict(write: Promise<unknown>, key: string, handlerId: string | null): Promise<void> {
  const error = await write.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(IdempotencyKeyConflictError);
  expect(error).toMatchObject({ code: "IDEMPOTENCY_KEY_CONFLICT", key, handlerId });
}

/** The contract of idempotency keys: stored with the change they answer for, or not at all. */
export function idempotencyContract(current: () => Store): void {
  let store!: Store;
  beforeEach(() => {
    store = current();
  });

  describe("idempotency keys", () => {
    it("reads null for a key never stored, and every field as written", async () => {
      expect(await store.getIdempotencyKey("nope")).toBeNull();
      const full = keyRecord("k1", { handlerId: "h", runId: "r" });
      const pending = keyRecord("k2", { status: null, body: null, handlerId: "h", runId: "r" });
      await store.commit({ handlers: [handlerRecord("h")], keys: [full, pending] });
      expect(await store.getIdempotencyKey("k1")).toEqual(full);
      expect(await store.getIdempotencyKey("k2")).toEqual(pending);
    });

    it("stores a commit's keys with its changes, and a stored key fails the whole batch, naming it", async () => {
      const first = keyRecord("start", { handlerId: "a" });
      await store.commit({
        handlers: [handlerRecord("a")],
        events: [{ handlerId: "a", events: eventRows([publishedEvent(0)]) }],
        states: [{ handlerId: "a", json: stateJson(runState()) }],
        keys: [first],
      });
      await conflict(
        store.commit({
          handlers: [handlerRecord("b"), handlerRecord("a", { status: "completed" })],
          events: [{ handlerId: "b", events: eventRows([publishedEvent(0)]) }],
          states: [{ handlerId: "b", json: stateJson(runState()) }],
          keys: [
            keyRecord("other", { handlerId: "b" }),
            keyRecord("start", { handlerId: "b", fingerprint: "x" }),
          ],
        }),
        "start",
        "b",
      );
      expect(await store.getHandler("b")).toBeNull();
      expect(await store.getHandler("a")).toMatchObject({ status: "running" });
      expect(await store.lastSequence("b")).toBe(-1);
      expect(await store.loadState("b")).toBeNull();
      expect(await store.getIdempotencyKey("other")).toBeNull();
      expect(await store.getIdempotencyKey("start")).toEqual(first);
    });

    it("refuses a key given twice in one batch", async () => {
      await conflict(
        store.commit({ handlers: [handlerRecord("a")], keys: [keyRecord("twice"), keyRecord("twice")] }),
        "twice",
        null,
      );
      expect(await store.getHandler("a")).toBeNull();
      expect(await store.getIdempotencyKey("twice")).toBeNull();
    });

    it("appends an inbox item with its key, or neither when the key is stored", async () => {
      await store.appendInbox("a", inboxItem("i1"), keyRecord("send", { handlerId: "a" }));
      expect(await store.getIdempotencyKey("send")).toMatchObject({ handlerId: "a", status: 200 });
      await conflict(
        store.appendInbox("a", inboxItem("i2"), keyRecord("send", { handlerId: "a" })),
        "send",
        "a",
      );
      expect((await store.readInbox("a")).map((i) => i.id)).toEqual(["i1"]);
      await store.appendInbox("a", inboxItem("i3"));
      expect((await store.readInbox("a")).map((i) => i.id)).toEqual(["i1", "i3"]);
    });

    it("deletes a handler with its key; the handler's keys outlive it; a stored key deletes nothing", async () => {
      await store.commit({
        handlers: [handlerRecord("a"), handlerRecord("b")],
        keys: [keyRecord("made", { handlerId: "a" })],
      });
      expect(await store.deleteHandler("a", keyRecord("purge", { handlerId: "a" }))).toBe(true);
      expect(await store.getHandler("a")).toBeNull();
      expect(await store.getIdempotencyKey("made")).toMatchObject({ handlerId: "a" });
      expect(await store.getIdempotencyKey("purge")).toMatchObject({ handlerId: "a" });
      await conflict(store.deleteHandler("b", keyRecord("purge", { handlerId: "b" })), "purge", "b");
      expect(await store.getHandler("b")).not.toBeNull();
      expect(await store.deleteHandler("b")).toBe(true);
    });

    it("puts a key alone: the first answer stays, a pending one takes its outcome once", async () => {
      const first = keyRecord("put", { status: 404, body: '{"code":"HANDLER_NOT_FOUND"}' });
      expect(await store.putIdempotencyKey(first)).toEqual(first);
      expect(await store.putIdempotencyKey(keyRecord("put", { status: 200 }))).toEqual(first);
      expect(await store.getIdempotencyKey("put")).toEqual(first);

      const pending = keyRecord("run", { status: null, body: null, handlerId: "h", runId: "r" });
      await store.commit({ handlers: [handlerRecord("h")], keys: [pending] });
      expect(await store.putIdempotencyKey(keyRecord("run", { status: null, body: null }))).toEqual(pending);
      // Another request's fingerprint never answers it.
      expect(
        await store.putIdempotencyKey({ ...pending, fingerprint: "x", status: 200, body: "{}" }),
      ).toEqual(pending);
      const outcome = { ...pending, status: 500, body: '{"status":"failed"}' };
      expect(await store.putIdempotencyKey(outcome)).toEqual(outcome);
      expect(
        await store.putIdempotencyKey({ ...pending, status: 200, body: '{"status":"completed"}' }),
      ).toEqual(outcome);
      expect(await store.getIdempotencyKey("run")).toEqual(outcome);
    });

    it("answers keys stored without an answer in a commit's keyAnswers, once, and only with their fingerprint", async () => {
      const pending = keyRecord("sync", { status: null, body: null, handlerId: "h", runId: "r" });
      const answered = keyRecord("done", { handlerId: "h" });
      await store.commit({ handlers: [handlerRecord("h")], keys: [pending, answered] });
      await store.commit({
        keyAnswers: [
          { key: "sync", fingerprint: "other", status: 500, body: "{}" },
          { key: "done", fingerprint: answered.fingerprint, status: 500, body: "{}" },
          { key: "absent", fingerprint: "x", status: 200, body: "{}" },
        ],
      });
      expect(await store.getIdempotencyKey("sync")).toEqual(pending);
      expect(await store.getIdempotencyKey("done")).toEqual(answered);
      expect(await store.getIdempotencyKey("absent")).toBeNull();
      const outcome = { key: "sync", fingerprint: pending.fingerprint, status: 200, body: '{"result":1}' };
      await store.commit({ keyAnswers: [outcome] });
      await store.commit({ keyAnswers: [{ ...outcome, status: 500, body: "{}" }] });
      expect(await store.getIdempotencyKey("sync")).toEqual({
        ...pending,
        status: 200,
        body: '{"result":1}',
      });
    });

    it("deletes keys first used before a time, at most limit at a time, oldest first", async () => {
      for (let i = 0; i < 5; i++) await store.putIdempotencyKey(keyRecord(`old${i}`, { createdAt: iso(i) }));
      await store.putIdempotencyKey(keyRecord("new", { createdAt: iso(10_000) }));
      expect(await store.deleteIdempotencyKeys(iso(5), 3)).toBe(3);
      expect(await store.getIdempotencyKey("old0")).toBeNull();
      expect(await store.getIdempotencyKey("old4")).not.toBeNull();
      expect(await store.deleteIdempotencyKeys(iso(5), 3)).toBe(2);
      expect(await store.deleteIdempotencyKeys(iso(5), 3)).toBe(0);
      expect(await store.getIdempotencyKey("new")).not.toBeNull();
    });
  });
}
