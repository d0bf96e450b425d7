// Fan-out / fan-in: one step sends an event per item, a step with a few workers processes them in
// parallel, and a collecting step waits until every result has arrived.
// Try it: curl -X POST localhost:8080/workflows/fan-out/run -H 'content-type: application/json' -d '{"start_event": {"words": ["a", "bb", "ccc"]}}'

import { defineEvent, StartEvent, StopEvent, Workflow } from "eventloom";
import { z } from "zod";

export const WordsInput = defineEvent("WordsInput", z.object({ words: z.array(z.string()).min(1) }), {
  extends: StartEvent,
});
export const CountWord = defineEvent("CountWord", z.object({ word: z.string() }));
export const WordCounted = defineEvent("WordCounted", z.object({ word: z.string(), length: z.number() }));

export const fanOut = new Workflow({
  name: "FanOutWorkflow",
  state: z.object({ expected: z.number().default(0) }),
})
  .step("split", { accepts: [WordsInput], emits: [CountWord] }, async (ctx, ev) => {
    // Remember how many results to wait for, then send one event per word.
    ctx.store.set("expected", ev.data.words.length);
    for (const word of ev.data.words) ctx.sendEvent(CountWord.create({ word }));
  })
  // numWorkers: at most two words are counted at once; the others wait in the step's queue.
  .step("count", { accepts: [CountWord], emits: [WordCounted], numWorkers: 2 }, async (_ctx, ev) =>
    WordCounted.create({ word: ev.data.word, length: ev.data.word.length }),
  )
  .step("gather", { accepts: [WordCounted], emits: [StopEvent] }, async (ctx, ev) => {
    // collectEvents buffers the results and returns null until all of them are here.
    const expected = Array.from({ length: ctx.store.get("expected") }, () => WordCounted);
    const all = ctx.collectEvents(ev, expected);
    if (all === null) return null;
    const total = all.reduce((sum, e) => sum + e.data.length, 0);
    return StopEvent.create({ result: { words: all.length, letters: total } });
  });
