import { beforeEach, describe, expect, it } from "vitest";
import {
  type CommitBatch,
  eventRows,
  type HandlerRecord,
  SequenceConflictError,
  type Store,
  stateJson,
} from "../../stores/store.js";
import { handlerRecord, inboxItem, iso, publishedEvent, runState } from "./fixtures.js";

/** The contract of `commit`: atomic batches, sequences, states, fences aside. `current` gives the store the suite opened for the test. */
export function commitContract(current: () => Store): void {
  let store!: Store;
  beforeEach(() => {
    store = current();
  });

  describe("commit", () => {
    it("stores the handlers, events and states of several handlers in one batch", async () => {
      await store.commit({
        handlers: [handlerRecord("a"), handlerRecord("b", { workflowName: "other" })],
        events: [
          { handlerId: "a", events: eventRows([publishedEvent(0), publishedEvent(1)]) },
          { handlerId: "b", events: eventRows([publishedEvent(0)]) },
        ],
        states: [
          { handlerId: "a", json: stateJson(runState({ who: "a" })) },
          { handlerId: "b", json: stateJson(runState({ who: "b" })) },
        ],
      });
      expect(await store.getHandler("a")).toEqual(handlerRecord("a"));
      expect(await store.getHandler("b")).toEqual(handlerRecord("b", { workflowName: "other" }));
      expect(await store.readEvents("a", -1, 100)).toEqual([publishedEvent(0), publishedEvent(1)]);
      expect(await store.readEvents("b", -1, 100)).toEqual([publishedEvent(0)]);
      expect(await store.loadState("a")).toEqual(runState({ who: "a" }));
      expect(await store.loadState("b")).toEqual(runState({ who: "b" }));
    });

    it("replaces a handler's record whole on a later commit", async () => {
      await store.commit({ handlers: [handlerRecord("a", { error: "boom" })] });
      const done = handlerRecord("a", {
        runId: "run-2",
        status: "completed",
        result: { sum: 15, list: [1, "two", null] },
        updatedAt: iso(5000),
        completedAt: iso(5000),
      });
      await store.commit({ handlers: [done] });
      expect(await store.getHandler("a")).toEqual(done);
    });

    it("keeps the last record and state of a handler that a batch holds several times", async () => {
      await store.commit({
        handlers: [handlerRecord("a"), handlerRecord("b"), handlerRecord("a", { status: "completed" })],
        states: [
          { handlerId: "a", json: stateJson(runState({ n: 1 })) },
          { handlerId: "b", json: stateJson(runState({ n: 1 })) },
          { handlerId: "a", json: stateJson(runState({ n: 2 })) },
        ],
      });
      expect(await store.getHandler("a")).toEqual(handlerRecord("a", { status: "completed" }));
      expect(await store.getHandler("b")).toEqual(handlerRecord("b"));
      expect((await store.loadState("a"))?.store).toEqual({ n: 2 });
      expect((await store.loadState("b"))?.store).toEqual({ n: 1 });
    });

    it("keeps a missing result, error or completedAt as null", async () => {
      const { result: _r, error: _e, completedAt: _c, ...partial } = handlerRecord("a");
      await store.commit({ handlers: [partial as HandlerRecord] });
      expect(await store.getHandler("a")).toEqual(handlerRecord("a"));
    });

    it("keeps a handler's resumeAttempts, replaces it on a later commit, and reads a missing one as 0", async () => {
      await store.commit({ handlers: [handlerRecord("a", { resumeAttempts: 2 })] });
      expect(await store.getHandler("a")).toEqual(handlerRecord("a", { resumeAttempts: 2 }));
      expect((await store.listRunning()).map((h) => h.resumeAttempts)).toEqual([2]);
      expect((await store.listHandlers({ limit: 10 })).handlers[0]?.resumeAttempts).toBe(2);
      const { resumeAttempts: _n, ...older } = handlerRecord("a");
      await store.commit({ handlers: [older as HandlerRecord] });
      expect(await store.getHandler("a")).toEqual(handlerRecord("a", { resumeAttempts: 0 }));
    });

    it("rejects a batch with an already stored sequence and writes nothing of it", async () => {
      await store.commit({
        handlers: [handlerRecord("a")],
        events: [{ handlerId: "a", events: eventRows([publishedEvent(0)]) }],
      });
      await store.appendInbox("a", inboxItem("i1"));
      const calls: (readonly string[])[] = [];
      store.subscribe((ids) => calls.push(ids));

      const failing = store.commit({
        handlers: [handlerRecord("b"), handlerRecord("a", { status: "completed" })],
        events: [
          { handlerId: "b", events: eventRows([publishedEvent(0)]) },
          { handlerId: "a", events: eventRows([publishedEvent(1), publishedEvent(0, { again: true })]) },
        ],
        states: [{ handlerId: "b", json: stateJson(runState()) }],
        inboxDone: [{ handlerId: "a", ids: ["i1"] }],
      });
      await expect(failing).rejects.toBeInstanceOf(SequenceConflictError);
      await expect(failing).rejects.toMatchObject({ handlerId: "a", sequence: 0 });

      expect(await store.getHandler("b")).toBeNull();
      expect(await store.getHandler("a")).toEqual(handlerRecord("a"));
      expect(await store.readEvents("b", -1, 100)).toEqual([]);
      expect(await store.readEvents("a", -1, 100)).toEqual([publishedEvent(0)]);
      expect(await store.lastSequence("a")).toBe(0);
      expect(await store.loadState("b")).toBeNull();
      expect(await store.readInbox("a")).toEqual([inboxItem("i1")]);
      expect(calls).toEqual([]);
    });

    it("names the conflicting event of a long batch, wherever it is, and writes nothing of it", async () => {
      await store.commit({
        handlers: [handlerRecord("a")],
        events: [{ handlerId: "a", events: eventRows([publishedEvent(130)]) }],
      });
      const long = store.commit({
        handlers: [handlerRecord("b")],
        events: [
          { handlerId: "b", events: eventRows(Array.from({ length: 100 }, (_, i) => publishedEvent(i))) },
          { handlerId: "a", events: eventRows(Array.from({ length: 140 }, (_, i) => publishedEvent(i))) },
        ],
      });
      await expect(long).rejects.toBeInstanceOf(SequenceConflictError);
      await expect(long).rejects.toMatchObject({ handlerId: "a", sequence: 130 });
      expect(await store.getHandler("b")).toBeNull();
      expect(await store.lastSequence("b")).toBe(-1);
      expect(await store.readEvents("a", -1, 1000)).toEqual([publishedEvent(130)]);
    });

    it("rejects a batch that holds one sequence twice for a handler, across groups too", async () => {
      const twice = store.commit({
        handlers: [handlerRecord("a")],
        events: [
          { handlerId: "a", events: eventRows([publishedEvent(0)]) },
          { handlerId: "a", events: eventRows([publishedEvent(1), publishedEvent(0)]) },
        ],
      });
      await expect(twice).rejects.toBeInstanceOf(SequenceConflictError);
      expect(await store.getHandler("a")).toBeNull();
      expect(await store.lastSequence("a")).toBe(-1);
    });

    it("rejects a sequence that is not a non-negative integer and writes nothing", async () => {
      for (const sequence of [-1, 1.5, Number.NaN]) {
        const batch: CommitBatch = {
          handlers: [handlerRecord("a")],
          events: [
            { handlerId: "a", events: eventRows([publishedEvent(0), { ...publishedEvent(1), sequence }]) },
          ],
        };
        await expect(store.commit(batch)).rejects.toBeInstanceOf(RangeError);
      }
      expect(await store.getHandler("a")).toBeNull();
      expect(await store.lastSequence("a")).toBe(-1);
    });

    it("writes nothing when a value in the batch cannot be serialized", async () => {
      // Events and states arrive as JSON text (the writer serializes them); a record's result does not.
      const failing = store.commit({
        handlers: [handlerRecord("a", { result: 1n })],
        events: [{ handlerId: "a", events: eventRows([publishedEvent(0)]) }],
        states: [{ handlerId: "a", json: stateJson(runState()) }],
      });
      await expect(failing).rejects.toThrow();
      expect(await store.getHandler("a")).toBeNull();
      expect(await store.lastSequence("a")).toBe(-1);
      expect(await store.loadState("a")).toBeNull();
    });

    it("accepts an empty batch", async () => {
      await store.commit({});
      await store.commit({ handlers: [], events: [], states: [], inboxDone: [] });
      expect((await store.listHandlers({ limit: 10 })).handlers).toEqual([]);
    });

    it("keeps what it stored apart from the objects it was given and returns", async () => {
      const record = handlerRecord("a", { result: { nested: { n: 1 } } });
      const event = publishedEvent(0, { list: [1] });
      const state = runState({ count: 1 });
      await store.commit({
        handlers: [record],
        events: [{ handlerId: "a", events: eventRows([event]) }],
        states: [{ handlerId: "a", json: stateJson(state) }],
      });
      (record.result as { nested: { n: number } }).nested.n = 2;
      (event.value["list"] as number[]).push(2);
      state.store["count"] = 2;

      const got = (await store.getHandler("a"))!;
      expect(got.result).toEqual({ nested: { n: 1 } });
      (got.result as { nested: { n: number } }).nested.n = 3;
      expect((await store.getHandler("a"))?.result).toEqual({ nested: { n: 1 } });

      const read = (await store.readEvents("a", -1, 1))[0]!;
      expect(read.value["list"]).toEqual([1]);
      (read.value["list"] as number[]).push(3);
      expect((await store.readEvents("a", -1, 1))[0]?.value["list"]).toEqual([1]);

      const loaded = await store.loadState("a");
      expect(loaded?.store["count"]).toBe(1);
      if (loaded) loaded.store["count"] = 3;
      expect((await store.loadState("a"))?.store["count"]).toBe(1);
    });
  });
}
