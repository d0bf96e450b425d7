import fc from "fast-check";
import { beforeEach, describe, expect, it } from "vitest";
import type { RunStatus } from "../../core/index.js";
import { type HandlerRecord, InvalidCursorError, type Store } from "../../stores/store.js";
import { handlerRecord, iso } from "./fixtures.js";

/** The contract of handler reads: getHandler, listHandlers (filters, order, paging), listRunning. `current` gives the store the suite opened for the test. */
export function readsContract(current: () => Store): void {
  let store!: Store;
  beforeEach(() => {
    store = current();
  });

  describe("getHandler", () => {
    it("resolves null for an unknown handler", async () => {
      expect(await store.getHandler("nope")).toBeNull();
    });
  });

  describe("listHandlers", () => {
    const ids = (page: { handlers: HandlerRecord[] }) => page.handlers.map((h) => h.handlerId);

    it("lists newest first by startedAt, then by handlerId", async () => {
      await store.commit({
        handlers: [
          handlerRecord("old", { startedAt: iso(0) }),
          handlerRecord("new", { startedAt: iso(2000) }),
          handlerRecord("mid-a", { startedAt: iso(1000) }),
          handlerRecord("mid-b", { startedAt: iso(1000) }),
        ],
      });
      const page = await store.listHandlers({ limit: 10 });
      expect(ids(page)).toEqual(["new", "mid-b", "mid-a", "old"]);
      expect(page.nextCursor).toBeNull();
      expect(page.handlers[0]).toEqual(handlerRecord("new", { startedAt: iso(2000) }));
    });

    it("ORs the values of one filter and ANDs the filters", async () => {
      const statuses: RunStatus[] = ["running", "completed", "failed", "cancelled"];
      const handlers = statuses.flatMap((status, i) =>
        ["greet", "math", "human"].map((workflowName, j) =>
          handlerRecord(`${workflowName}-${status}`, { status, workflowName, startedAt: iso(i * 10 + j) }),
        ),
      );
      await store.commit({ handlers });
      const sorted = (page: { handlers: HandlerRecord[] }) => ids(page).sort();

      expect(sorted(await store.listHandlers({ limit: 100, status: ["failed", "cancelled"] }))).toEqual(
        [
          "greet-cancelled",
          "greet-failed",
          "human-cancelled",
          "human-failed",
          "math-cancelled",
          "math-failed",
        ].sort(),
      );
      expect(sorted(await store.listHandlers({ limit: 100, workflowName: ["math", "human"] }))).toHaveLength(
        8,
      );
      expect(
        sorted(
          await store.listHandlers({
            limit: 100,
            status: ["running", "failed"],
            workflowName: ["math", "human"],
          }),
        ),
      ).toEqual(["human-failed", "human-running", "math-failed", "math-running"]);
      expect(await store.listHandlers({ limit: 100, status: [], workflowName: [] })).toMatchObject({
        handlers: expect.arrayContaining(handlers),
      });
      expect((await store.listHandlers({ limit: 100, status: [], workflowName: [] })).handlers).toHaveLength(
        12,
      );
      expect(ids(await store.listHandlers({ limit: 100, workflowName: ["unknown"] }))).toEqual([]);
    });

    it("returns at most limit handlers and a cursor only when more follow", async () => {
      await store.commit({ handlers: [0, 1, 2].map((i) => handlerRecord(`h${i}`, { startedAt: iso(i) })) });
      const first = await store.listHandlers({ limit: 2 });
      expect(ids(first)).toEqual(["h2", "h1"]);
      expect(first.nextCursor).toMatch(/^[A-Za-z0-9_-]+$/);
      const second = await store.listHandlers({ limit: 2, cursor: first.nextCursor });
      expect(ids(second)).toEqual(["h0"]);
      expect(second.nextCursor).toBeNull();
      expect((await store.listHandlers({ limit: 3 })).nextCursor).toBeNull();
      expect(ids(await store.listHandlers({ limit: 1000, cursor: null }))).toEqual(["h2", "h1", "h0"]);
    });

    it("pages through every handler once while new handlers are added and others change", async () => {
      const original = Array.from({ length: 25 }, (_, i) =>
        handlerRecord(`h${String(i).padStart(2, "0")}`, { startedAt: iso(Math.floor(i / 3) * 1000) }),
      );
      await store.commit({ handlers: original });
      const seen: string[] = [];
      let cursor: string | null = null;
      let added = 0;
      do {
        const page = await store.listHandlers({ limit: 4, cursor });
        seen.push(...ids(page));
        cursor = page.nextCursor;
        added++;
        await store.commit({
          handlers: [
            handlerRecord(`new-${added}`, { startedAt: iso(100_000 + added) }),
            // Same startedAt as listed ones: sorts by handlerId among them.
            handlerRecord(`h04-${added}`, { startedAt: iso(1000) }),
            handlerRecord(original[added % 25]?.handlerId ?? "h00", {
              startedAt: original[added % 25]?.startedAt ?? iso(0),
              status: "completed",
            }),
          ],
        });
      } while (cursor !== null);
      expect(new Set(seen).size).toBe(seen.length);
      for (const h of original) expect(seen).toContain(h.handlerId);
      expect(seen.filter((id) => id.startsWith("new-"))).toEqual([]);
    });

    it("pages through a filtered listing with its cursor", async () => {
      await store.commit({
        handlers: Array.from({ length: 10 }, (_, i) =>
          handlerRecord(`h${i}`, { startedAt: iso(i), status: i % 2 === 0 ? "running" : "completed" }),
        ),
      });
      const first = await store.listHandlers({ limit: 2, status: ["running"] });
      const second = await store.listHandlers({ limit: 2, status: ["running"], cursor: first.nextCursor });
      const third = await store.listHandlers({ limit: 2, status: ["running"], cursor: second.nextCursor });
      expect([...ids(first), ...ids(second), ...ids(third)]).toEqual(["h8", "h6", "h4", "h2", "h0"]);
      expect(third.nextCursor).toBeNull();
    });

    it("throws InvalidCursorError for a cursor it did not issue", async () => {
      await store.commit({ handlers: [0, 1, 2].map((i) => handlerRecord(`h${i}`, { startedAt: iso(i) })) });
      const valid = (await store.listHandlers({ limit: 1 })).nextCursor ?? "";
      const b64 = (text: string) => Buffer.from(text, "utf8").toString("base64url");
      const bad = [
        "",
        "not a cursor",
        "abc$",
        `${valid}=`,
        `${valid}.`,
        valid.slice(0, -4),
        b64("{}"),
        b64("null"),
        b64("[1]"),
        b64(`[2,"${iso(1)}","h1"]`),
        b64(`[1,"${iso(1)}",""]`),
        b64(`[1,"${iso(1)}",7]`),
        b64(`[1,"yesterday","h1"]`),
        b64(`[1,"2024-13-45T99:99:99.999Z","h1"]`),
        b64(`[1,"${iso(1)}","h1",4]`),
        b64(`{"startedAt":"${iso(1)}","handlerId":"h1"}`),
      ];
      for (const cursor of bad) {
        await expect(store.listHandlers({ limit: 1, cursor }), cursor).rejects.toBeInstanceOf(
          InvalidCursorError,
        );
      }
      await fc.assert(
        fc.asyncProperty(fc.string({ unit: "binary" }), async (cursor) => {
          await expect(store.listHandlers({ limit: 1, cursor })).rejects.toBeInstanceOf(InvalidCursorError);
        }),
        { numRuns: 200 },
      );
    });

    it("rejects a limit outside 1..1000", async () => {
      for (const limit of [0, -1, 1001, 1.5, Number.NaN]) {
        await expect(store.listHandlers({ limit })).rejects.toBeInstanceOf(RangeError);
      }
    });
  });

  describe("listRunning", () => {
    it("lists only the running handlers, oldest first", async () => {
      await store.commit({
        handlers: [
          handlerRecord("r2", { startedAt: iso(2) }),
          handlerRecord("done", { startedAt: iso(0), status: "completed", completedAt: iso(3) }),
          handlerRecord("r1", { startedAt: iso(1) }),
          handlerRecord("failed", { startedAt: iso(1), status: "failed", error: "boom" }),
          handlerRecord("cancelled", { startedAt: iso(1), status: "cancelled" }),
        ],
      });
      expect((await store.listRunning()).map((h) => h.handlerId)).toEqual(["r1", "r2"]);
      await store.commit({ handlers: [handlerRecord("r1", { startedAt: iso(1), status: "completed" })] });
      expect(await store.listRunning()).toEqual([handlerRecord("r2", { startedAt: iso(2) })]);
    });
  });
}
