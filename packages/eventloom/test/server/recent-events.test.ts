import { join } from "node:path";
import { defineEvent, StartEvent, StopEvent, Workflow } from "eventloom";
import { WorkflowClient } from "eventloom/client";
import { SqliteStore, WorkflowServer } from "eventloom/server";
import { describe, expect, test } from "vitest";
import { z } from "zod";
import { RecentEvents } from "../../src/server/runs/recent-events.js";
import type { EventRow } from "../../src/stores/store.js";
import { tempDir, until } from "./helpers.js";

const rows = (from: number, to: number): EventRow[] =>
  Array.from({ length: to - from + 1 }, (_, i) => ({ sequence: from + i, json: `{"n":${from + i}}` }));
const seqs = (list: EventRow[] | null) => list?.map((r) => r.sequence) ?? null;

describe("RecentEvents", () => {
  test("keeps rows only for watched handlers, and drops them when the last reader leaves", () => {
    const recent = new RecentEvents(10);
    recent.add("h", rows(0, 2));
    expect(recent.read("h", -1, 10)).toBeNull();
    const first = recent.watch("h");
    const second = recent.watch("h");
    recent.add("h", rows(0, 2));
    expect(seqs(recent.read("h", -1, 10))).toEqual([0, 1, 2]);
    first();
    first(); // twice does not count twice
    expect(seqs(recent.read("h", 0, 10))).toEqual([1, 2]);
    second();
    expect(recent.read("h", 0, 10)).toBeNull();
    expect(recent.size).toBe(0);
  });

  test("answers only from the row right after the cursor; before or past what it holds is the store's", () => {
    const recent = new RecentEvents(10);
    recent.watch("h");
    recent.add("h", rows(5, 9));
    expect(recent.read("h", 3, 10)).toBeNull(); // 4 is older than memory
    expect(seqs(recent.read("h", 4, 10))).toEqual([5, 6, 7, 8, 9]);
    expect(seqs(recent.read("h", 6, 2))).toEqual([7, 8]);
    expect(recent.read("h", 9, 10)).toBeNull(); // nothing after 9 here: the store may know more
  });

  test("a gap in sequences (another process wrote meanwhile) starts it afresh", () => {
    const recent = new RecentEvents(10);
    recent.watch("h");
    recent.add("h", rows(0, 3));
    recent.add("h", rows(8, 9));
    expect(recent.read("h", 3, 10)).toBeNull(); // 4..7 were never seen here
    expect(seqs(recent.read("h", 7, 10))).toEqual([8, 9]);
  });

  test("holds between capacity and twice capacity rows, the newest", () => {
    const recent = new RecentEvents(4);
    recent.watch("h");
    for (let i = 0; i < 20; i++) recent.add("h", rows(i, i));
    // Held: the rows whose predecessor's cursor memory answers for.
    const held = Array.from({ length: 20 }, (_, s) => s).filter((s) => recent.read("h", s - 1, 1) !== null);
    expect(held.at(-1)).toBe(19);
    expect(held).toEqual(Array.from({ length: held.length }, (_, i) => 20 - held.length + i));
    expect(held.length).toBeGreaterThanOrEqual(4);
    expect(held.length).toBeLessThanOrEqual(8);
    expect(seqs(recent.read("h", (held[0] as number) - 1, 100))).toEqual(held);
  });

  // 30 events of 10 MB streamed to readers took the server to 1 GiB: memory was bounded in rows only.
  test("holds at most bytesPerHandler of a handler's rows, the newest, whatever their count", () => {
    const recent = new RecentEvents({ rowsPerHandler: 1000, bytesPerHandler: 10_000, totalBytes: 1e9 });
    recent.watch("h");
    const big = (sequence: number) => ({ sequence, json: "x".repeat(3000) });
    for (let i = 0; i < 30; i++) recent.add("h", [big(i)]);
    expect(recent.bytes).toBeLessThanOrEqual(10_000);
    expect(seqs(recent.read("h", 28, 10))).toEqual([29]);
    expect(recent.read("h", 20, 10)).toBeNull(); // older rows are the store's
  });

  test("holds at most totalBytes in all, dropping the handlers that got rows least recently", () => {
    const recent = new RecentEvents({ rowsPerHandler: 1000, bytesPerHandler: 10_000, totalBytes: 30_000 });
    const ids = ["a", "b", "c", "d"];
    for (const id of ids) recent.watch(id);
    for (const id of ids) recent.add(id, [{ sequence: 0, json: "x".repeat(9000) }]);
    expect(recent.bytes).toBeLessThanOrEqual(30_000);
    expect(recent.read("a", -1, 1)).toBeNull(); // the oldest went first
    expect(seqs(recent.read("d", -1, 1))).toEqual([0]);
    recent.add("b", [{ sequence: 1, json: "y" }]); // b is now the most recent
    recent.add("a", [{ sequence: 0, json: "x".repeat(9000) }]);
    expect(recent.read("c", -1, 1)).toBeNull();
    expect(seqs(recent.read("b", -1, 5))).toEqual([0, 1]);
    expect(recent.bytes).toBeLessThanOrEqual(30_000);
  });

  test("gives its bytes back when a handler is forgotten or its last reader leaves", () => {
    const recent = new RecentEvents(10);
    const unwatch = recent.watch("h");
    recent.watch("g");
    recent.add("h", rows(0, 4));
    recent.add("g", rows(0, 4));
    const each = recent.bytes / 2;
    unwatch();
    expect(recent.bytes).toBe(each);
    recent.forget("g");
    expect(recent.bytes).toBe(0);
  });

  test("forget drops a deleted handler's rows at once", () => {
    const recent = new RecentEvents(10);
    recent.watch("h");
    recent.add("h", rows(0, 1));
    recent.forget("h");
    expect(recent.read("h", -1, 10)).toBeNull();
  });
});

describe("streams read recent events from memory and the rest from the store", () => {
  const N = 5000;
  const Tick = defineEvent("Tick", z.object({ i: z.number() }));
  const emit = new Workflow({ name: "Emit", timeout: null }).step(
    "emit",
    { accepts: [StartEvent], emits: [StopEvent] },
    async (ctx) => {
      for (let i = 0; i < N; i++) {
        ctx.writeEventToStream(Tick.create({ i }));
        if (i % 100 === 99) await new Promise((r) => setTimeout(r, 10));
      }
      return StopEvent.create({ result: N });
    },
  );

  test("readers that join before, during and after a run each get every event once, in order", async () => {
    const { dir, remove } = tempDir();
    const server = new WorkflowServer({ store: new SqliteStore(join(dir, "w.db")) });
    server.addWorkflow("emit", emit);
    try {
      const { url } = await server.serve({ host: "127.0.0.1", port: 0 });
      const client = new WorkflowClient({ baseUrl: url });
      let earlyCount = 0;
      const read = async (handlerId: string, progress?: (n: number) => void) => {
        const seen: number[] = [];
        for await (const ev of client.getWorkflowEvents(handlerId)) {
          if (ev.type === "Tick") seen.push(ev.value["i"] as number);
          progress?.(seen.length);
        }
        return seen;
      };
      const { handlerId } = await client.runWorkflowNowait("emit");
      const early = read(handlerId, (n) => {
        earlyCount = n;
      });
      // Join once about a third is stored: the first pages come from the store, the rest from memory.
      await until(() => earlyCount >= 1500, { what: "the first reader's 1500th event", intervalMs: 2 });
      const during = read(handlerId);
      const all = Array.from({ length: N }, (_, i) => i);
      expect(await early).toEqual(all);
      expect(await during).toEqual(all);
      expect(await read(handlerId)).toEqual(all);
    } finally {
      await server.close();
      remove();
    }
  }, 60_000);
});
