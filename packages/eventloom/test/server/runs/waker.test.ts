// The waker under a burst (issue 17): runs released from memory that come due close together are
// loaded in time order ahead of their time, a bounded number at once and a bounded number ahead, each
// once, none late and none earlier than the lead. Real memory store and clock-driven wakes that, as a
// run's own timer does, take the run's wake time off its record only once that time has come.
import { expect, it } from "vitest";
import { silentLogger } from "../../../src/server/logger.js";
import { Waker } from "../../../src/server/runs/waker.js";
import { MemoryStore } from "../../../src/stores/memory/index.js";
import { handlerRecord } from "../../../src/testing/store-contract/fixtures.js";
import { FakeClock } from "../../core/fake-clock.js";

async function burst(shared: boolean, maxAhead: number) {
  const clock = new FakeClock(Date.parse("2030-01-01T00:00:00.000Z"));
  const store = new MemoryStore();
  const t = clock.now() + 10_000;
  // 600 runs due 4 a millisecond, in three pages of 200: faster than they are loaded (16 per 10 ms).
  const due = new Map(Array.from({ length: 600 }, (_, i) => [`h${i}`, t + Math.floor(i / 4)]));
  await store.commit({ handlers: [...due].map(([id, wakeAt]) => handlerRecord(id, { wakeAt })) });
  const woken: { id: string; at: number }[] = [];
  let waking = 0;
  let mostWaking = 0;
  let mostAhead = 0;
  const ahead = new Set<string>();
  const wake = (id: string) =>
    new Promise<void>((resolve) => {
      woken.push({ id, at: clock.now() });
      waking++;
      mostWaking = Math.max(mostWaking, waking);
      const wakeAt = due.get(id) as number;
      if (wakeAt > clock.now()) ahead.add(id);
      mostAhead = Math.max(mostAhead, ahead.size);
      // Loading takes 10 ms; the run's timer then fires at its time and its record is due no more.
      clock.setTimeout(() => {
        waking--;
        resolve();
      }, 10);
      clock.setTimeout(
        () => {
          ahead.delete(id);
          void store.commit({ handlers: [handlerRecord(id, { wakeAt: null })] });
        },
        Math.max(10, wakeAt - clock.now()),
      );
    });
  const waker = new Waker({
    store,
    ownership: { shared },
    clock,
    logger: silentLogger,
    wake,
    pageSize: 200,
    leadMs: 500,
    concurrency: 16,
    maxAhead,
  });
  waker.start();
  for (let ms = 0; ms < 12_000; ms += 5) await clock.advance(5);
  waker.close();
  return { woken, due, mostWaking, mostAhead };
}

function checkOnce(woken: { id: string }[], due: Map<string, number>) {
  expect(woken.map((w) => w.id).sort()).toEqual([...due.keys()].sort());
}

for (const shared of [false, true]) {
  const store = shared ? "shared store" : "store of its own";
  it(`loads a burst in time within the lead, each run once, 16 at once (${store})`, async () => {
    const { woken, due, mostWaking, mostAhead } = await burst(shared, 1_000);
    checkOnce(woken, due);
    for (const { id, at } of woken) {
      const wakeAt = due.get(id) as number;
      expect(at).toBeLessThanOrEqual(wakeAt);
      expect(at).toBeGreaterThanOrEqual(wakeAt - 500);
    }
    expect(mostWaking).toBe(16);
    // Loaded early enough to be on time: more than a page of them were in memory ahead of their time.
    expect(mostAhead).toBeGreaterThan(200);
  });

  it(`keeps at most maxAhead runs loaded before their time (${store})`, async () => {
    const { woken, due, mostAhead } = await burst(shared, 100);
    checkOnce(woken, due);
    for (const { id, at } of woken) expect(at).toBeGreaterThanOrEqual((due.get(id) as number) - 500);
    expect(mostAhead).toBe(100);
  });
}

for (const shared of [false, true]) {
  const store = shared ? "shared store" : "store of its own";
  it(`wakes every one of many overdue runs, in pages, at once (${store})`, async () => {
    // Runs whose time passed while no server ran: wakes end while the next page is being read, and
    // that page must still be judged full (the rest is read on, not left for a later read).
    const clock = new FakeClock(Date.parse("2030-01-01T00:00:00.000Z"));
    const memory = new MemoryStore();
    const ids = Array.from({ length: 300 }, (_, i) => `h${i}`);
    await memory.commit({
      handlers: ids.map((id, i) => handlerRecord(id, { wakeAt: clock.now() - 60_000 + i })),
    });
    const woken: string[] = [];
    const waker = new Waker({
      store: memory,
      ownership: { shared },
      clock,
      logger: silentLogger,
      // Loading ends a turn later; the run then runs and its record is due no more.
      wake: async (id) => {
        woken.push(id);
        await null;
        await memory.commit({ handlers: [handlerRecord(id, { wakeAt: null })] });
      },
      pageSize: 50,
    });
    waker.start();
    for (let ms = 0; ms < 1_000; ms += 10) await clock.advance(10);
    waker.close();
    expect([...woken].sort()).toEqual([...ids].sort());
  });
}
