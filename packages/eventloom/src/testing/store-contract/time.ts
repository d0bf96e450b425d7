import { beforeEach, describe, expect, it } from "vitest";
import type { Store } from "../../stores/store.js";
import { handlerRecord, T0 } from "./fixtures.js";

/** The contract of what time and composition store (round 2 §7): wake times, parents, schedules, limits. */
export function timeContract(current: () => Store): void {
  let store!: Store;
  beforeEach(() => {
    store = current();
  });

  describe("wake times, parents, schedules and limits on records", () => {
    it("keeps wakeAt, parentHandlerId, scheduleId, limitKey and queued, and reads them back", async () => {
      const linked = handlerRecord("child", {
        wakeAt: T0 + 5_000,
        parentHandlerId: "parent",
        scheduleId: "nightly",
        limitKey: '["llm","tenant-1"]',
        queued: true,
      });
      await store.commit({ handlers: [handlerRecord("plain"), linked] });
      expect(await store.getHandler("child")).toEqual(linked);
      expect(await store.getHandler("plain")).toEqual(handlerRecord("plain"));
      const listed = (await store.listHandlers({ limit: 10 })).handlers.find((h) => h.handlerId === "child");
      expect(listed).toEqual(linked);
      expect((await store.listRunning()).find((h) => h.handlerId === "child")).toEqual(linked);
    });
  });

  describe("children", () => {
    it("lists only the children of a handler with parentHandlerId, newest first, with other filters", async () => {
      await store.commit({
        handlers: [
          handlerRecord("p"),
          handlerRecord("c1", { parentHandlerId: "p", startedAt: "2024-10-21T14:32:16.000Z" }),
          handlerRecord("c2", {
            parentHandlerId: "p",
            startedAt: "2024-10-21T14:32:17.000Z",
            status: "completed",
            completedAt: "2024-10-21T14:32:18.000Z",
          }),
          handlerRecord("other", { parentHandlerId: "q" }),
        ],
      });
      const ids = async (q: Parameters<Store["listHandlers"]>[0]) =>
        (await store.listHandlers(q)).handlers.map((h) => h.handlerId);
      expect(await ids({ limit: 10, parentHandlerId: "p" })).toEqual(["c2", "c1"]);
      expect(await ids({ limit: 10, parentHandlerId: "p", status: ["running"] })).toEqual(["c1"]);
      expect(await ids({ limit: 10, parentHandlerId: "none" })).toEqual([]);
      const first = await store.listHandlers({ limit: 1, parentHandlerId: "p" });
      expect(await ids({ limit: 10, parentHandlerId: "p", cursor: first.nextCursor })).toEqual(["c1"]);
    });
  });

  describe("dueWakes", () => {
    it("gives the running handlers whose wake time has come, earliest first, at most `limit`", async () => {
      await store.commit({
        handlers: [
          handlerRecord("late", { wakeAt: T0 + 3_000 }),
          handlerRecord("early", { wakeAt: T0 + 1_000 }),
          handlerRecord("middle", { wakeAt: T0 + 2_000 }),
          handlerRecord("future", { wakeAt: T0 + 60_000 }),
          handlerRecord("none"),
          handlerRecord("ended", {
            wakeAt: T0,
            status: "completed",
            completedAt: "2024-10-21T14:33:00.000Z",
          }),
        ],
      });
      expect(await store.dueWakes(T0 + 3_000, 10)).toEqual([
        { handlerId: "early", wakeAt: T0 + 1_000 },
        { handlerId: "middle", wakeAt: T0 + 2_000 },
        { handlerId: "late", wakeAt: T0 + 3_000 },
      ]);
      expect((await store.dueWakes(T0 + 3_000, 2)).map((w) => w.handlerId)).toEqual(["early", "middle"]);
      expect(await store.dueWakes(T0, 10)).toEqual([]);
    });

    it("follows the record: a new wake time replaces the old one, none removes it", async () => {
      await store.commit({ handlers: [handlerRecord("a", { wakeAt: T0 + 1_000 })] });
      await store.commit({ handlers: [handlerRecord("a", { wakeAt: T0 + 9_000 })] });
      expect(await store.dueWakes(T0 + 5_000, 10)).toEqual([]);
      expect(await store.dueWakes(T0 + 9_000, 10)).toEqual([{ handlerId: "a", wakeAt: T0 + 9_000 }]);
      await store.commit({ handlers: [handlerRecord("a", { wakeAt: null })] });
      expect(await store.dueWakes(T0 + 99_000, 10)).toEqual([]);
    });
  });
}
