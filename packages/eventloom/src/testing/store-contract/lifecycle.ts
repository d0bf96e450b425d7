import { beforeEach, describe, expect, it } from "vitest";
import { eventRows, type Store, StoreClosedError, stateJson } from "../../stores/store.js";
import { handlerRecord, inboxItem, publishedEvent, runState } from "./fixtures.js";

/** The contract of deleteHandler, subscribe, init and close. `current` gives the store the suite opened for the test. */
export function lifecycleContract(current: () => Store): void {
  let store!: Store;
  beforeEach(() => {
    store = current();
  });

  describe("deleteHandler", () => {
    it("deletes the record, events, state and inbox of the handler only", async () => {
      for (const id of ["a", "b"]) {
        await store.commit({
          handlers: [handlerRecord(id)],
          events: [{ handlerId: id, events: eventRows([publishedEvent(0), publishedEvent(1)]) }],
          states: [{ handlerId: id, json: stateJson(runState()) }],
        });
        await store.appendInbox(id, inboxItem("i"));
      }
      expect(await store.deleteHandler("a")).toBe(true);
      expect(await store.getHandler("a")).toBeNull();
      expect(await store.readEvents("a", -1, 10)).toEqual([]);
      expect(await store.lastSequence("a")).toBe(-1);
      expect(await store.loadState("a")).toBeNull();
      expect(await store.readInbox("a")).toEqual([]);
      expect((await store.listHandlers({ limit: 10 })).handlers.map((h) => h.handlerId)).toEqual(["b"]);

      expect(await store.getHandler("b")).toEqual(handlerRecord("b"));
      expect(await store.lastSequence("b")).toBe(1);
      expect(await store.loadState("b")).toEqual(runState());
      expect(await store.readInbox("b")).toEqual([inboxItem("i")]);

      await store.commit({
        handlers: [handlerRecord("a")],
        events: [{ handlerId: "a", events: eventRows([publishedEvent(0)]) }],
      });
      expect(await store.readEvents("a", -1, 10)).toEqual([publishedEvent(0)]);
    });

    it("resolves false for an unknown handler", async () => {
      expect(await store.deleteHandler("nope")).toBe(false);
      await store.commit({ handlers: [handlerRecord("a")] });
      expect(await store.deleteHandler("a")).toBe(true);
      expect(await store.deleteHandler("a")).toBe(false);
    });
  });

  describe("subscribe", () => {
    it("calls listeners after a commit with the handlers that got a record or events", async () => {
      const calls: (readonly string[])[] = [];
      const visible: Promise<number>[] = [];
      store.subscribe((ids) => {
        calls.push(ids);
        visible.push(store.lastSequence("b"));
      });
      await store.commit({
        handlers: [handlerRecord("a")],
        events: [
          { handlerId: "b", events: eventRows([publishedEvent(0)]) },
          { handlerId: "a", events: eventRows([publishedEvent(0)]) },
          { handlerId: "b", events: eventRows([publishedEvent(1)]) },
        ],
        states: [{ handlerId: "c", json: stateJson(runState()) }],
      });
      expect(calls).toEqual([["a", "b"]]);
      // The write was visible when the listener ran.
      expect(await Promise.all(visible)).toEqual([1]);
    });

    it("calls listeners after appendInbox with the handler", async () => {
      const calls: (readonly string[])[] = [];
      store.subscribe((ids) => calls.push(ids));
      await store.appendInbox("h", inboxItem("1"));
      expect(calls).toEqual([["h"]]);
    });

    it("stops calling a listener once unsubscribed, and keeps calling the others", async () => {
      const first: (readonly string[])[] = [];
      const second: (readonly string[])[] = [];
      const unsubscribe = store.subscribe((ids) => first.push(ids));
      store.subscribe((ids) => second.push(ids));
      await store.commit({ handlers: [handlerRecord("a")] });
      unsubscribe();
      unsubscribe();
      await store.commit({ handlers: [handlerRecord("b")] });
      await store.appendInbox("c", inboxItem("1"));
      expect(first).toEqual([["a"]]);
      expect(second).toEqual([["a"], ["b"], ["c"]]);
    });

    it("still commits and calls the other listeners when a listener throws", async () => {
      const calls: (readonly string[])[] = [];
      store.subscribe(() => {
        throw new Error("listener failed");
      });
      store.subscribe((ids) => calls.push(ids));
      await store.commit({ handlers: [handlerRecord("a")] });
      expect(calls).toEqual([["a"]]);
      expect(await store.getHandler("a")).toEqual(handlerRecord("a"));
    });
  });

  describe("init and close", () => {
    it("init is idempotent and keeps what is stored", async () => {
      await store.commit({ handlers: [handlerRecord("a")] });
      await store.init();
      await store.init();
      expect(await store.getHandler("a")).toEqual(handlerRecord("a"));
    });

    it("rejects every call after close with StoreClosedError, and closes once", async () => {
      await store.close();
      await store.close();
      const calls: (() => Promise<unknown>)[] = [
        () => store.commit({ handlers: [handlerRecord("a")] }),
        () => store.getHandler("a"),
        () => store.listHandlers({ limit: 1 }),
        () => store.listRunning(),
        () => store.readEvents("a", -1, 1),
        () => store.lastSequence("a"),
        () => store.loadState("a"),
        () => store.appendInbox("a", inboxItem("1")),
        () => store.readInbox("a"),
        () => store.deleteHandler("a"),
      ];
      for (const call of calls) await expect(call()).rejects.toBeInstanceOf(StoreClosedError);
    });
  });
}
