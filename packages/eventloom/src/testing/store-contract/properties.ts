import fc from "fast-check";
import { beforeEach, describe, expect, it } from "vitest";
import type { PublishedEvent } from "../../core/index.js";
import {
  type CommitBatch,
  eventRows,
  SequenceConflictError,
  type Store,
  stateJson,
} from "../../stores/store.js";
import {
  dangerousObject,
  handlerRecord,
  inboxItem,
  iso,
  jsonValue,
  publishedEvent,
  runState,
} from "./fixtures.js";

/** Properties every store must have, checked on generated input (fast-check). `current` gives the store the suite opened for the test. */
export function propertiesContract(current: () => Store): void {
  let store!: Store;
  beforeEach(() => {
    store = current();
  });

  describe("properties", () => {
    let namespace = 0;
    const fresh = (prefix: string) => `${prefix}-${++namespace}`;

    /** Claims the next sequence like a run does; retries when another writer claimed it first. */
    async function appendAsWriter(
      handlerId: string,
      writer: number,
      count: number,
      lastSequence: (id: string) => Promise<number>,
      commit: (batch: CommitBatch) => Promise<void>,
    ): Promise<void> {
      for (let i = 0; i < count; i++) {
        for (;;) {
          const next = (await lastSequence(handlerId)) + 1;
          try {
            await commit({
              events: [{ handlerId, events: eventRows([publishedEvent(next, { writer, i })]) }],
            });
            break;
          } catch (error) {
            if (!(error instanceof SequenceConflictError)) throw error;
          }
        }
      }
    }

    function expectEveryWrite(events: PublishedEvent[], writers: number, perWriter: number): void {
      expect(events.map((e) => e.sequence)).toEqual(Array.from({ length: writers * perWriter }, (_, i) => i));
      for (let w = 0; w < writers; w++) {
        const own = events.filter((e) => e.value["writer"] === w).map((e) => e.value["i"]);
        expect(own).toEqual(Array.from({ length: perWriter }, (_, i) => i));
      }
    }

    it("keeps sequences gap-free and unique under concurrent writers, in any interleaving", async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.scheduler(),
          fc.integer({ min: 2, max: 6 }),
          fc.integer({ min: 1, max: 4 }),
          async (s, writers, perWriter) => {
            const handlerId = fresh("race");
            // The scheduler looks at a call's promise only when it releases it: one that rejects
            // before that (a store whose writes are truly asynchronous) must not count as unhandled.
            const handled = <T>(promise: Promise<T>): Promise<T> => {
              promise.catch(() => {});
              return promise;
            };
            const lastSequence = s.scheduleFunction((id: string) => handled(store.lastSequence(id)));
            const commit = s.scheduleFunction((batch: CommitBatch) => handled(store.commit(batch)));
            const all = Promise.all(
              Array.from({ length: writers }, (_, w) =>
                appendAsWriter(handlerId, w, perWriter, lastSequence, commit),
              ),
            );
            await s.waitFor(all);
            expectEveryWrite(await store.readEvents(handlerId, -1, 1000), writers, perWriter);
          },
        ),
        { numRuns: 40 },
      );
    });

    it("keeps sequences gap-free and unique under many concurrent unscheduled writers", async () => {
      const handlerId = fresh("many");
      const last = (id: string) => store.lastSequence(id);
      const commit = (batch: CommitBatch) => store.commit(batch);
      await Promise.all(Array.from({ length: 16 }, (_, w) => appendAsWriter(handlerId, w, 8, last, commit)));
      expectEveryWrite(await store.readEvents(handlerId, -1, 1000), 16, 8);
      expect(await store.lastSequence(handlerId)).toBe(127);
    });

    it("applies each batch whole or not at all, like a model of the store", async () => {
      const batchArb = fc.array(
        fc.record({
          handler: fc.constantFrom("x", "y", "z"),
          sequences: fc.array(fc.integer({ min: 0, max: 6 }), { minLength: 1, maxLength: 3 }),
        }),
        { minLength: 1, maxLength: 3 },
      );
      await fc.assert(
        fc.asyncProperty(fc.array(batchArb, { minLength: 1, maxLength: 8 }), async (batches) => {
          const prefix = fresh("model");
          const model = new Map<string, Set<number>>();
          for (const groups of batches) {
            const claimed = new Map<string, Set<number>>();
            let conflict = false;
            for (const g of groups) {
              const seen = claimed.get(g.handler) ?? new Set<number>();
              claimed.set(g.handler, seen);
              for (const seq of g.sequences) {
                if (seen.has(seq) || model.get(g.handler)?.has(seq)) conflict = true;
                seen.add(seq);
              }
            }
            const batch: CommitBatch = {
              handlers: groups.map((g) => handlerRecord(`${prefix}-${g.handler}`)),
              events: groups.map((g) => ({
                handlerId: `${prefix}-${g.handler}`,
                events: eventRows(g.sequences.map((seq) => publishedEvent(seq))),
              })),
            };
            if (conflict) {
              await expect(store.commit(batch)).rejects.toBeInstanceOf(SequenceConflictError);
            } else {
              await store.commit(batch);
              for (const [h, seqs] of claimed) {
                const stored = model.get(h) ?? new Set<number>();
                for (const seq of seqs) stored.add(seq);
                model.set(h, stored);
              }
            }
          }
          for (const h of ["x", "y", "z"]) {
            const expected = [...(model.get(h) ?? [])].sort((a, b) => a - b);
            const events = await store.readEvents(`${prefix}-${h}`, -1, 100);
            expect(events.map((e) => e.sequence)).toEqual(expected);
            expect(await store.lastSequence(`${prefix}-${h}`)).toBe(expected[expected.length - 1] ?? -1);
            expect((await store.getHandler(`${prefix}-${h}`)) !== null).toBe(model.has(h));
          }
        }),
        { numRuns: 60 },
      );
    });

    it("pages through any set of handlers in newest-first order, each exactly once", async () => {
      const idArb = fc
        .array(fc.constantFrom("a", "B", "z", "0", "_", "-", ".", "é", "ｚ", "😀", "中"), {
          minLength: 1,
          maxLength: 4,
        })
        .map((chars) => chars.join(""));
      const utf8Order = (a: string, b: string) =>
        Buffer.compare(Buffer.from(a, "utf8"), Buffer.from(b, "utf8"));
      await fc.assert(
        fc.asyncProperty(
          fc.uniqueArray(fc.record({ id: idArb, at: fc.integer({ min: 0, max: 3 }) }), {
            selector: (h) => h.id,
            maxLength: 25,
          }),
          fc.integer({ min: 1, max: 7 }),
          async (specs, limit) => {
            const workflowName = fresh("paging");
            await store.commit({
              handlers: specs.map((h) =>
                handlerRecord(`${workflowName}/${h.id}`, { workflowName, startedAt: iso(h.at) }),
              ),
            });
            const expected = specs
              .map((h) => ({ id: `${workflowName}/${h.id}`, at: iso(h.at) }))
              .sort((x, y) => utf8Order(y.at, x.at) || utf8Order(y.id, x.id))
              .map((h) => h.id);
            const seen: string[] = [];
            let cursor: string | null = null;
            do {
              const page = await store.listHandlers({ limit, cursor, workflowName: [workflowName] });
              expect(page.handlers.length).toBeLessThanOrEqual(limit);
              seen.push(...page.handlers.map((h) => h.handlerId));
              cursor = page.nextCursor;
            } while (cursor !== null);
            expect(seen).toEqual(expected);
          },
        ),
        { numRuns: 60 },
      );
    });

    it("round trips any JSON value through states, results, event values and inbox items", async () => {
      await fc.assert(
        fc.asyncProperty(jsonValue, dangerousObject, async (value, object) => {
          const handlerId = fresh("json");
          const state = runState({ value, object });
          const record = handlerRecord(handlerId, { result: value });
          const event = publishedEvent(0, { value, object });
          const item = inboxItem("i", { value, object });
          await store.commit({
            handlers: [record],
            events: [{ handlerId, events: eventRows([event]) }],
            states: [{ handlerId, json: stateJson(state) }],
          });
          await store.appendInbox(handlerId, item);
          expect(await store.loadState(handlerId)).toEqual(state);
          expect(await store.getHandler(handlerId)).toEqual(record);
          expect(await store.readEvents(handlerId, -1, 1)).toEqual([event]);
          expect(await store.readInbox(handlerId)).toEqual([item]);
        }),
        { numRuns: 150 },
      );
    });
  });
}
