import { beforeEach, describe, expect, it } from "vitest";
import { type EndedCutoffs, eventRows, type Store } from "../../stores/store.js";
import { handlerRecord, publishedEvent } from "./fixtures.js";

const START = JSON.stringify({ type: "StartEvent", qualifiedName: "StartEvent", data: { topic: "x" } });

/** The contract of CommitBatch.startEvents and getStartEvent, for a store that keeps them. */
export function startEventsContract(current: () => Store): void {
  let store!: Store;
  beforeEach(() => {
    store = current();
  });

  describe("start events", () => {
    it("keeps a handler's start event with its commit, the latest one committed", async () => {
      if (!store.getStartEvent) return;
      expect(await store.getStartEvent("a")).toBeNull();
      await store.commit({ handlers: [handlerRecord("a")], startEvents: [{ handlerId: "a", json: START }] });
      expect(JSON.parse((await store.getStartEvent("a")) ?? "null")).toEqual(JSON.parse(START));
      await store.commit({ handlers: [handlerRecord("a")] });
      expect(JSON.parse((await store.getStartEvent("a")) ?? "null")).toEqual(JSON.parse(START));
      const again = JSON.stringify({ type: "StartEvent", qualifiedName: "StartEvent", data: { n: 2 } });
      await store.commit({ handlers: [handlerRecord("a")], startEvents: [{ handlerId: "a", json: again }] });
      expect(JSON.parse((await store.getStartEvent("a")) ?? "null")).toEqual(JSON.parse(again));
    });

    it("keeps none when its commit is refused", async () => {
      if (!store.getStartEvent) return;
      await store.commit({
        handlers: [handlerRecord("refused-a")],
        events: [{ handlerId: "refused-a", events: eventRows([publishedEvent(0)]) }],
      });
      await expect(
        store.commit({
          handlers: [handlerRecord("refused-b")],
          events: [{ handlerId: "refused-a", events: eventRows([publishedEvent(0)]) }],
          startEvents: [{ handlerId: "refused-b", json: START }],
        }),
      ).rejects.toThrow();
      expect(await store.getStartEvent("refused-b")).toBeNull();
    });

    it("deletes it with its handler, by deleteHandler or retention", async () => {
      if (!store.getStartEvent) return;
      for (const id of ["a", "b", "c"]) {
        const ended = { status: "completed", completedAt: "2020-01-01T00:00:00.000Z" } as const;
        await store.commit({
          handlers: [handlerRecord(id, id === "b" ? ended : {})],
          events: [{ handlerId: id, events: eventRows([publishedEvent(0)]) }],
          startEvents: [{ handlerId: id, json: START }],
        });
      }
      await store.deleteHandler("a");
      expect(await store.getStartEvent("a")).toBeNull();
      if (store.deleteEnded) {
        const cutoffs: EndedCutoffs = { completed: "2021-01-01T00:00:00.000Z" };
        expect(await store.deleteEnded(cutoffs, 10)).toEqual(["b"]);
        expect(await store.getStartEvent("b")).toBeNull();
      }
      expect(await store.getStartEvent("c")).not.toBeNull();
    });
  });
}
