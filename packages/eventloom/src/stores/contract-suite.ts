import fc from "fast-check";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { JsonValue, PublishedEvent, RunState, RunStatus } from "../core/index.js";
import {
  type CommitBatch,
  DuplicateInboxItemError,
  eventRows,
  type HandlerRecord,
  type InboxItem,
  InvalidCursorError,
  SequenceConflictError,
  type Store,
  StoreClosedError,
  stateJson,
} from "./store.js";

/** Opens a fresh, initialised store; `cleanup` closes it (if still open) and removes what it left. */
export type OpenStore = () => Promise<{ store: Store; cleanup(): Promise<void> }>;

const T0 = Date.parse("2024-10-21T14:32:15.123Z");
const iso = (offsetMs: number): string => new Date(T0 + offsetMs).toISOString();

export function handlerRecord(handlerId: string, fields: Partial<HandlerRecord> = {}): HandlerRecord {
  return {
    handlerId,
    workflowName: "greet",
    runId: `run-${handlerId}`,
    status: "running",
    result: null,
    error: null,
    startedAt: iso(0),
    updatedAt: iso(0),
    completedAt: null,
    ...fields,
  };
}

export function publishedEvent(sequence: number, value: Record<string, unknown> = {}): PublishedEvent {
  return {
    sequence,
    type: "StreamEvent",
    qualifiedName: "StreamEvent",
    types: ["workflows.events.Event", "StreamEvent"],
    value: { sequence, ...value },
    internal: false,
    timestamp: iso(sequence),
  };
}

export function runState(store: Record<string, JsonValue> = {}): RunState {
  return {
    version: 1,
    workflowName: "greet",
    runId: "run-1",
    status: "running",
    startedAt: T0,
    deadline: null,
    nextSequence: 0,
    nextItemId: 1,
    queues: { greet: [{ id: "0", step: "greet", event: startEvent(), attempt: 1 }] },
    inFlight: {},
    retries: {},
    collected: {},
    waiters: {},
    unclaimed: [],
    store,
    idle: false,
    outcome: null,
  };
}

export function inboxItem(id: string, data: Record<string, unknown> = {}): InboxItem {
  return {
    id,
    event: { type: "ResponseEvent", qualifiedName: "ResponseEvent", data: { response: id, ...data } },
    step: null,
    receivedAt: iso(1000),
  };
}

function startEvent() {
  return { type: "StartEvent", qualifiedName: "workflows.events.StartEvent", data: { name: "Ada" } };
}

/** JSON has no -0: `JSON.stringify(-0)` is "0". Everything else fast-check generates must round trip. */
function withoutNegativeZero(value: JsonValue): JsonValue {
  if (typeof value === "number") return Object.is(value, -0) ? 0 : value;
  if (Array.isArray(value)) return value.map(withoutNegativeZero);
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, withoutNegativeZero(v)]));
  }
  return value;
}

const jsonValue = fc.jsonValue({ noUnicodeString: false }).map((v) => withoutNegativeZero(v as JsonValue));
const dangerousObject = fc
  .dictionary(
    fc.constantFrom("__proto__", "constructor", "prototype", "toString", "hasOwnProperty", ""),
    jsonValue,
    {
      maxKeys: 4,
    },
  )
  .map(withoutNegativeZero);

/**
 * The behaviour every {@link Store} must have. Each store's test file runs it:
 *
 * @example
 * runStoreContract("memory", async () => ({ store: new MemoryStore(), cleanup: async () => {} }));
 */
export function runStoreContract(name: string, open: OpenStore): void {
  describe(`${name} store contract`, () => {
    let store: Store;
    let cleanup: () => Promise<void>;

    beforeEach(async () => {
      ({ store, cleanup } = await open());
    });

    afterEach(async () => {
      await cleanup();
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
        expect(
          sorted(await store.listHandlers({ limit: 100, workflowName: ["math", "human"] })),
        ).toHaveLength(8);
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
        expect(
          (await store.listHandlers({ limit: 100, status: [], workflowName: [] })).handlers,
        ).toHaveLength(12);
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

      it("rejects an item id the handler already holds and keeps the first", async () => {
        await store.appendInbox("h", inboxItem("x"));
        await expect(store.appendInbox("h", inboxItem("x", { second: true }))).rejects.toBeInstanceOf(
          DuplicateInboxItemError,
        );
        expect(await store.readInbox("h")).toEqual([inboxItem("x")]);
      });
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
        expect(events.map((e) => e.sequence)).toEqual(
          Array.from({ length: writers * perWriter }, (_, i) => i),
        );
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
        await Promise.all(
          Array.from({ length: 16 }, (_, w) => appendAsWriter(handlerId, w, 8, last, commit)),
        );
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
  });
}
