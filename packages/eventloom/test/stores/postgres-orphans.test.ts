// Issue 21, items 4 and 7: the one query that lists what a process should take over. Running
// handlers nobody holds, without those that wait for outside events with nothing due (the normal
// state of a human-in-the-loop deployment): thousands of them never starve a takeover.
import { randomBytes } from "node:crypto";
import { afterAll, expect, it } from "vitest";
import { PostgresStore } from "../../src/stores/postgres/index.js";
import { handlerRecord, iso } from "../../src/testing/store-contract/fixtures.js";
import { useFreshDatabase } from "../support/fresh-database.js";

const db = useFreshDatabase("workflows_pgfence_orphans");
const opened: PostgresStore[] = [];

afterAll(async () => {
  await Promise.allSettled(opened.map((s) => s.close()));
});

it("lists orphaned running handlers in one query, leaving out waiting ones with nothing due", async () => {
  const store = new PostgresStore(
    { connectionString: db.url, max: 4 },
    { schema: `o_${randomBytes(4).toString("hex")}` },
  );
  opened.push(store);
  await store.init();
  const NOW = 1_000_000;
  const waiting = Array.from({ length: 1050 }, (_, i) => `waiting-${String(i).padStart(4, "0")}`);
  await store.commit({
    handlers: waiting.map((id) => handlerRecord(id, { startedAt: iso(0) })),
    states: waiting.map((id) => ({ handlerId: id, json: "{}", idleUntil: Number.MAX_SAFE_INTEGER })),
  });
  const rows = [
    ["working", null],
    ["timer-due", NOW - 1],
    ["timer-later", NOW + 60_000],
    ["event-waiting", Number.MAX_SAFE_INTEGER],
    ["held", null],
  ] as const;
  await store.commit({
    handlers: rows.map(([id], i) => handlerRecord(id, { startedAt: iso(i + 1) })),
    states: rows.map(([id, idleUntil]) => ({ handlerId: id, json: "{}", idleUntil })),
  });
  await store.appendInbox("event-waiting", {
    id: "e1",
    event: { type: "Ping", data: {} } as never,
    step: null,
    receivedAt: iso(9),
  });
  await store.acquireLease("held", "a-live-peer", 60_000);
  expect(await store.listExpiredRunning(100, NOW)).toEqual(["working", "timer-due", "event-waiting"]);
  // Without `now`, every orphan (what older callers got).
  expect(await store.listExpiredRunning(1000)).toHaveLength(1000);
  // A record written without a state keeps what the last state said.
  await store.commit({ handlers: [handlerRecord("timer-later", { startedAt: iso(3), resumeAttempts: 1 })] });
  expect(await store.listExpiredRunning(100, NOW)).toEqual(["working", "timer-due", "event-waiting"]);
});
