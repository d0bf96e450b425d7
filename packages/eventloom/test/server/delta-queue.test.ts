// Each stream reader kept the text deltas it had not been sent yet in an unbounded queue: a reader that
// stopped reading while a model streamed held every delta since. Now a reader holds at most
// DELTA_QUEUE_BYTES of them; one that falls further behind drops them and, when it reads again, gets
// each open stream's text so far as one delta from offset 0: put together by offset, nothing is lost.
import { TextStreams } from "eventloom/client";
import { MemoryStore } from "eventloom/server";
import { describe, expect, it } from "vitest";
import { systemClock } from "../../src/core/clock.js";
import { LiveText } from "../../src/core/text-stream.js";
import { openEventFeed } from "../../src/server/event-stream.js";
import { HandlerSignals } from "../../src/server/runs/handler-signals.js";
import { handlerRecord } from "../../src/testing/store-contract/fixtures.js";

const PIECE = "x".repeat(3 * 1024);
/** DELTA_QUEUE_BYTES of src/server/event-stream.ts (written out: the test must fail without it). */
const DELTA_QUEUE_BYTES = 1024 * 1024;

async function feedOf(live: LiveText) {
  const store = new MemoryStore();
  await store.init();
  await store.commit({ handlers: [handlerRecord("h")] });
  return openEventFeed({
    store,
    signals: new HandlerSignals(),
    recent: null,
    handlerId: "h",
    after: -1,
    sse: false,
    includeInternal: false,
    includeQualifiedName: false,
    pingIntervalMs: 60_000,
    clock: systemClock,
    pageSize: 100,
    liveText: () => live,
  });
}

type Delta = { id: string; attempt: string; offset: number; delta: string };
const deltas = (text: string | null): Delta[] =>
  (text ?? "")
    .split("\n")
    .filter((line) => line !== "")
    .map((line) => JSON.parse(line) as Delta);

describe("a stream reader's text deltas", () => {
  it("are held up to DELTA_QUEUE_BYTES for a reader that does not read; past it, it gets the text so far again, from offset 0", async () => {
    const live = new LiveText();
    const feed = await feedOf(live);
    try {
      const write = (offset: number) =>
        live.write({ id: "s", attempt: "a", offset, delta: PIECE, after: -1 });
      write(0);
      const first = deltas(await feed.next());
      expect(first).toEqual([{ id: "s", attempt: "a", offset: 0, delta: PIECE }]);

      // Under the cap, a reader that reads late gets every delta, in order.
      const under = Math.floor(DELTA_QUEUE_BYTES / 2 / PIECE.length);
      for (let i = 1; i <= under; i++) write(i * PIECE.length);
      const late = deltas(await feed.next());
      expect(late.map((d) => d.offset)).toEqual(
        Array.from({ length: under }, (_, i) => (i + 1) * PIECE.length),
      );

      // The reader does not read while 3 MiB of deltas are written: it drops them past the cap, and
      // reading again gets the text so far whole.
      const count = under + Math.ceil((3 * DELTA_QUEUE_BYTES) / PIECE.length);
      for (let i = under + 1; i <= count; i++) write(i * PIECE.length);
      const whole = PIECE.repeat(count + 1);
      const next = deltas(await feed.next());
      expect(next).toEqual([{ id: "s", attempt: "a", offset: 0, delta: whole }]);

      // The client puts the text together from what it got, without a gap or a repeat.
      const texts = new TextStreams();
      for (const d of [...first, ...late, ...next]) texts.apply({ kind: "delta", ...d } as never);
      expect(texts.get("s")?.text).toBe(whole);

      // Reading again, it follows the stream as before.
      write(whole.length);
      expect(deltas(await feed.next())).toEqual([
        { id: "s", attempt: "a", offset: whole.length, delta: PIECE },
      ]);
    } finally {
      feed.end();
    }
  });
});
