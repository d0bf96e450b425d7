import { beforeEach, describe, expect, it } from "vitest";
import type { Store } from "../../stores/store.js";
import { handlerRecord, T0 } from "./fixtures.js";

const START = JSON.stringify({ type: "StartEvent", qualifiedName: "StartEvent", data: { n: 1 } });

/** The contract of claimScheduleFire and listSchedules: one claim per fire time, with its run. */
export function schedulesContract(current: () => Store): void {
  let store!: Store;
  beforeEach(() => {
    store = current();
  });

  const claim = (fireAt: number, handlerId: string | null) => ({
    scheduleId: "nightly",
    fireAt,
    handler: handlerId === null ? null : handlerRecord(handlerId, { scheduleId: "nightly" }),
    startEvent: handlerId === null ? null : START,
  });

  describe("schedules", () => {
    it("claims a fire time once, with its handler and start event, and no state", async () => {
      expect(await store.listSchedules(["nightly"])).toEqual([]);
      expect(await store.claimScheduleFire(claim(T0, "run-1"))).toBe(true);
      expect(await store.claimScheduleFire(claim(T0, "run-1b"))).toBe(false);
      expect(await store.getHandler("run-1b")).toBeNull();
      const record = await store.getHandler("run-1");
      expect(record).toMatchObject({ handlerId: "run-1", status: "running", scheduleId: "nightly" });
      expect(await store.loadState("run-1")).toBeNull();
      if (store.getStartEvent)
        expect(JSON.parse((await store.getStartEvent("run-1")) ?? "null")).toEqual(JSON.parse(START));
      expect(await store.listSchedules(["nightly", "other"])).toEqual([
        { scheduleId: "nightly", lastFireAt: T0, lastHandlerId: "run-1" },
      ]);
    });

    it("takes only a later fire time, never an earlier or the same one", async () => {
      expect(await store.claimScheduleFire(claim(T0 + 2000, "run-2"))).toBe(true);
      expect(await store.claimScheduleFire(claim(T0 + 1000, "run-1"))).toBe(false);
      expect(await store.claimScheduleFire(claim(T0 + 2000, "run-2b"))).toBe(false);
      expect(await store.getHandler("run-1")).toBeNull();
      expect(await store.claimScheduleFire(claim(T0 + 3000, "run-3"))).toBe(true);
      expect(await store.listSchedules(["nightly"])).toEqual([
        { scheduleId: "nightly", lastFireAt: T0 + 3000, lastHandlerId: "run-3" },
      ]);
    });

    it("marks a fire time without a run, and leaves an existing handler as it is", async () => {
      expect(await store.claimScheduleFire(claim(T0, null))).toBe(true);
      expect(await store.listSchedules(["nightly"])).toEqual([
        { scheduleId: "nightly", lastFireAt: T0, lastHandlerId: null },
      ]);
      await store.commit({
        handlers: [handlerRecord("kept", { status: "completed", completedAt: "2025-01-01T00:00:00.000Z" })],
      });
      expect(await store.claimScheduleFire(claim(T0 + 1000, "kept"))).toBe(true);
      expect(await store.getHandler("kept")).toMatchObject({ status: "completed", scheduleId: null });
    });

    it("gives one claim to one of many racing for the same fire time", async () => {
      const results = await Promise.all(
        Array.from({ length: 8 }, (_, i) => store.claimScheduleFire(claim(T0 + 5000, `race-${i}`))),
      );
      expect(results.filter(Boolean)).toHaveLength(1);
      const winner = results.indexOf(true);
      const running = await store.listRunning();
      expect(running.map((r) => r.handlerId)).toEqual([`race-${winner}`]);
    });
  });
}
