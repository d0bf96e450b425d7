import { beforeEach, describe, expect, it } from "vitest";
import type { JsonValue, PublishedEvent } from "../../core/index.js";
import {
  DuplicateInboxItemError,
  eventRows,
  type InboxItem,
  SequenceConflictError,
  type Store,
  stateJson,
} from "../../stores/store.js";
import { handlerRecord, inboxItem, iso, publishedEvent, runState } from "./fixtures.js";

/** The contract of event reads, loadState and the inbox. `current` gives the store the suite opened for the test. */
export function eventsAndInboxContract(current: () => Store): void {
  let store!: Store;
  beforeEach(() => {
    store = current();
  });

  describe("readEvents and lastSequence", () => {
    beforeEach(async () => {
      await store.commit({
        events: [
          { handlerId: "a", events: eventRows([0, 1, 2, 3, 4].map((s) => publishedEvent(s))) },
          { handlerId: "b", events: eventRows([publishedEvent(0, { of: "b" })]) },
        ],
      });
    });

    it("reads the events after a sequence, in order, at most limit of them", async () => {
      const seqs = async (after: number, limit: number) =>
        (await store.readEvents("a", after, limit)).map((e) => e.sequence);
      expect(await seqs(-1, 100)).toEqual([0, 1, 2, 3, 4]);
      expect(await seqs(1, 100)).toEqual([2, 3, 4]);
      expect(await seqs(-1, 2)).toEqual([0, 1]);
      expect(await seqs(2, 1)).toEqual([3]);
      expect(await seqs(4, 100)).toEqual([]);
      expect(await seqs(-1, 0)).toEqual([]);
      expect(await store.readEvents("b", -1, 100)).toEqual([publishedEvent(0, { of: "b" })]);
      expect(await store.readEvents("unknown", -1, 100)).toEqual([]);
    });

    it("returns events in sequence order whatever order they were committed in", async () => {
      await store.commit({
        events: [{ handlerId: "c", events: eventRows([publishedEvent(2), publishedEvent(0)]) }],
      });
      await store.commit({ events: [{ handlerId: "c", events: eventRows([publishedEvent(1)]) }] });
      expect((await store.readEvents("c", -1, 10)).map((e) => e.sequence)).toEqual([0, 1, 2]);
      expect((await store.readEvents("c", 0, 10)).map((e) => e.sequence)).toEqual([1, 2]);
    });

    it("keeps every field of an event", async () => {
      const event: PublishedEvent = {
        sequence: 5,
        type: "StepStateChanged",
        qualifiedName: "workflows.events.StepStateChanged",
        types: ["workflows.events.Event", "workflows.events.StepStateChanged"],
        value: {
          step: "greet",
          state: "running",
          worker_id: 0,
          input_event: null,
          output_event: "Ünïcødé 🚀",
        },
        internal: true,
        timestamp: iso(7),
      };
      await store.commit({ events: [{ handlerId: "a", events: eventRows([event]) }] });
      expect(await store.readEvents("a", 4, 10)).toEqual([event]);
    });

    it("gives the rows of the same events as they were committed, text for text", async () => {
      const rows = eventRows([publishedEvent(10, { text: 'ü "q" \\ 🚀' }), publishedEvent(11)]);
      await store.commit({ events: [{ handlerId: "a", events: rows }] });
      expect(await store.readEventRows("a", 9, 10)).toEqual(rows);
      expect(await store.readEventRows("a", 1, 2)).toEqual(
        (await store.readEvents("a", 1, 2)).map((e) => ({ sequence: e.sequence, json: JSON.stringify(e) })),
      );
      expect(await store.readEventRows("a", 11, 10)).toEqual([]);
      expect(await store.readEventRows("unknown", -1, 10)).toEqual([]);
      await expect(store.readEventRows("a", -1, -1)).rejects.toBeInstanceOf(RangeError);
    });

    it("rejects a negative or fractional limit", async () => {
      await expect(store.readEvents("a", -1, -1)).rejects.toBeInstanceOf(RangeError);
      await expect(store.readEvents("a", -1, 0.5)).rejects.toBeInstanceOf(RangeError);
    });

    it("gives the highest stored sequence, or -1 when there is none", async () => {
      expect(await store.lastSequence("a")).toBe(4);
      expect(await store.lastSequence("b")).toBe(0);
      expect(await store.lastSequence("unknown")).toBe(-1);
    });
  });

  describe("loadState", () => {
    it("resolves null for a handler without state", async () => {
      expect(await store.loadState("nope")).toBeNull();
    });

    it("returns the last committed state, JSON values intact", async () => {
      await store.commit({ states: [{ handlerId: "a", json: stateJson(runState({ v: 1 })) }] });
      const tricky = JSON.parse(
        '{"__proto__":{"polluted":true},"constructor":{"prototype":1},"":"empty key","ünï":"🚀\\u0000\\ud800",' +
          '"big":1.7976931348623157e308,"small":5e-324,"neg":-12.5,"nested":[[[]],{}],"nul":null,"t":true}',
      ) as Record<string, JsonValue>;
      await store.commit({ states: [{ handlerId: "a", json: stateJson(runState(tricky)) }] });
      const loaded = await store.loadState("a");
      expect(loaded).toEqual(runState(tricky));
      expect(Object.keys(loaded?.store ?? {})).toEqual(Object.keys(tricky));
      expect(Object.getPrototypeOf(loaded?.store)).toBe(Object.prototype);
      expect(({} as Record<string, unknown>)["polluted"]).toBeUndefined();
    });
  });

  describe("inbox", () => {
    it("reads items in the order they were appended, per handler", async () => {
      for (const id of ["b", "a", "c"]) await store.appendInbox("h", inboxItem(id));
      await store.appendInbox("other", inboxItem("a", { other: true }));
      expect(await store.readInbox("h")).toEqual([inboxItem("b"), inboxItem("a"), inboxItem("c")]);
      expect(await store.readInbox("other")).toEqual([inboxItem("a", { other: true })]);
      expect(await store.readInbox("none")).toEqual([]);
    });

    it("keeps an item's step and event", async () => {
      const item: InboxItem = { ...inboxItem("x", { nested: { list: [1, 2] } }), step: "greet_human" };
      await store.appendInbox("h", item);
      expect(await store.readInbox("h")).toEqual([item]);
    });

    it("deletes the items named by inboxDone in the commit, and only them", async () => {
      for (const id of ["1", "2", "3", "4"]) await store.appendInbox("h", inboxItem(id));
      await store.appendInbox("other", inboxItem("2"));
      await store.commit({
        states: [{ handlerId: "h", json: stateJson(runState()) }],
        inboxDone: [{ handlerId: "h", ids: ["2", "4", "unknown"] }],
      });
      expect(await store.readInbox("h")).toEqual([inboxItem("1"), inboxItem("3")]);
      expect(await store.readInbox("other")).toEqual([inboxItem("2")]);
      await store.appendInbox("h", inboxItem("5"));
      expect((await store.readInbox("h")).map((i) => i.id)).toEqual(["1", "3", "5"]);
    });

    it("adds commit's inboxAdd items to running handlers' inboxes with the batch, each id once", async () => {
      await store.commit({ handlers: [handlerRecord("parent")] });
      const heard: string[] = [];
      const off = store.subscribe((ids) => heard.push(...ids));
      const child = handlerRecord("child", { status: "completed", completedAt: iso(5) });
      await store.commit({ handlers: [child], inboxAdd: [{ handlerId: "parent", item: inboxItem("end") }] });
      off();
      expect(heard).toContain("parent");
      expect(await store.readInbox("parent")).toEqual([inboxItem("end")]);
      // The same child's end written again (a retried commit): still one item, the first.
      await store.commit({
        handlers: [child],
        inboxAdd: [{ handlerId: "parent", item: inboxItem("end", { again: true }) }],
      });
      expect(await store.readInbox("parent")).toEqual([inboxItem("end")]);
      await store.commit({ inboxDone: [{ handlerId: "parent", ids: ["end"] }] });
      expect(await store.readInbox("parent")).toEqual([]);
    });

    it("adds inboxAdd items only to handlers running after the batch, and none when it fails", async () => {
      await store.commit({ handlers: [handlerRecord("ended", { status: "failed", completedAt: iso(1) })] });
      await store.commit({
        handlers: [handlerRecord("fresh")],
        inboxAdd: [
          { handlerId: "ended", item: inboxItem("a") },
          { handlerId: "missing", item: inboxItem("b") },
          { handlerId: "fresh", item: inboxItem("c") },
        ],
      });
      expect(await store.readInbox("ended")).toEqual([]);
      expect(await store.readInbox("missing")).toEqual([]);
      expect(await store.readInbox("fresh")).toEqual([inboxItem("c")]);
      await store.commit({ events: [{ handlerId: "x", events: eventRows([publishedEvent(0)]) }] });
      await expect(
        store.commit({
          events: [{ handlerId: "x", events: eventRows([publishedEvent(0)]) }],
          inboxAdd: [{ handlerId: "fresh", item: inboxItem("d") }],
        }),
      ).rejects.toBeInstanceOf(SequenceConflictError);
      expect(await store.readInbox("fresh")).toEqual([inboxItem("c")]);
    });

    it("takes an item in with its EventReceived record in one commit: the item leaves, the record stays", async () => {
      const item: InboxItem = { ...inboxItem("answer", { text: "Ünï 🚀" }), step: "ask" };
      await store.appendInbox("h", item);
      const record: PublishedEvent = {
        sequence: 3,
        type: "EventReceived",
        qualifiedName: "workflows.events.EventReceived",
        types: ["workflows.events.Event", "workflows.events.EventReceived"],
        value: {
          type: item.event.type,
          qualified_name: item.event.qualifiedName,
          value: item.event.data,
          step: item.step,
        },
        internal: true,
        timestamp: iso(2000),
      };
      await store.commit({
        events: [{ handlerId: "h", events: eventRows([record]) }],
        states: [{ handlerId: "h", json: stateJson(runState()) }],
        inboxDone: [{ handlerId: "h", ids: ["answer"] }],
      });
      expect(await store.readInbox("h")).toEqual([]);
      expect(await store.readEvents("h", -1, 10)).toEqual([record]);
    });

    it("rejects an item id the handler already holds and keeps the first", async () => {
      await store.appendInbox("h", inboxItem("x"));
      await expect(store.appendInbox("h", inboxItem("x", { second: true }))).rejects.toBeInstanceOf(
        DuplicateInboxItemError,
      );
      expect(await store.readInbox("h")).toEqual([inboxItem("x")]);
    });
  });
}
