import { beforeEach, describe, expect, it } from "vitest";
import type { Store } from "../../stores/store.js";
import { handlerRecord } from "./fixtures.js";

/** The contract of the optional `ready()` probe (skipped for a store without it). */
export function readinessContract(current: () => Store): void {
  let store!: Store;
  beforeEach(() => {
    store = current();
  });

  describe("ready", () => {
    it("resolves on an open store and writes nothing", async (t) => {
      if (store.ready === undefined) return t.skip();
      await store.ready();
      await store.ready();
      expect((await store.listHandlers({ limit: 10 })).handlers).toEqual([]);
      await store.commit({ handlers: [handlerRecord("a")] });
      await store.ready();
      expect(await store.getHandler("a")).toEqual(handlerRecord("a"));
    });

    it("rejects with STORE_UNAVAILABLE once the store is closed", async (t) => {
      if (store.ready === undefined) return t.skip();
      await store.close();
      await expect(store.ready()).rejects.toMatchObject({ code: "STORE_UNAVAILABLE" });
    });
  });
}
