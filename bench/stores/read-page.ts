// A page of a stream's store reads: `readEventRows` of 1,000 small events, whole (`.all()`) against
// bounded in bytes (`maxBytes`, rows iterated one by one), alternating, in CPU time.
// Run: node_modules/.bin/tsx bench/stores/read-page.ts
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SqliteStore } from "../../packages/eventloom/src/stores/sqlite/index.js";
import { eventRows } from "../../packages/eventloom/src/stores/store.js";
import {
  handlerRecord,
  publishedEvent,
} from "../../packages/eventloom/src/testing/store-contract/fixtures.js";

const EVENTS = 100_000;
const ROUNDS = 6;
const dir = mkdtempSync(join(tmpdir(), "eventloom-read-page-"));
const store = new SqliteStore(join(dir, "w.db"));
await store.commit({ handlers: [handlerRecord("h")] });
for (let from = 0; from < EVENTS; from += 5000) {
  const events = Array.from({ length: 5000 }, (_, i) => publishedEvent(from + i, { tick: from + i }));
  await store.commit({ events: [{ handlerId: "h", events: eventRows(events) }] });
}

async function round(maxBytes: number | undefined): Promise<number> {
  const c0 = process.cpuUsage();
  for (let after = -1; after < EVENTS - 1; ) {
    const rows = await store.readEventRows("h", after, 1000, maxBytes);
    after = rows[rows.length - 1]!.sequence;
  }
  const c = process.cpuUsage(c0);
  return ((c.user + c.system) * 1000) / EVENTS;
}

const rows: [number, number][] = [];
for (let i = 0; i < ROUNDS; i++) rows.push([await round(undefined), await round(4 * 1024 * 1024)]);
for (const [a, b] of rows) console.log(`whole ${a.toFixed(0)} ns/event, bounded ${b.toFixed(0)} ns/event`);
const median = (xs: number[]) => xs.sort((x, y) => x - y)[Math.floor(xs.length / 2)]!;
const a = median(rows.slice(1).map((r) => r[0]));
const b = median(rows.slice(1).map((r) => r[1]));
console.log(
  `median of rounds 2–${ROUNDS}: ${a.toFixed(0)} → ${b.toFixed(0)} ns CPU/event (${(((b - a) / a) * 100).toFixed(1)}%)`,
);
await store.close();
rmSync(dir, { recursive: true, force: true });
