// The engine against @llamaindex/workflow-core on identical workloads, alternating in one process.
// Run: npm run bench:engine   (or: node_modules/.bin/tsx bench/engine/engine-bench.ts [--quick])
import { createWorkflow, workflowEvent } from "@llamaindex/workflow-core";
import { z } from "zod";
import { defineEvent, StartEvent, StopEvent, Workflow } from "../../packages/eventloom/src/core/index.js";

const quick = process.argv.includes("--quick");
const STEPS = 10;

// ---- ours ----
const Hop = Array.from({ length: STEPS }, (_, i) => defineEvent(`BenchHop${i}`, z.object({ n: z.number() })));
let ours = new Workflow({ name: "chain", timeout: null }) as Workflow;
for (let i = 0; i < STEPS; i++) {
  const accepts = [i === 0 ? StartEvent : Hop[i]!];
  const last = i === STEPS - 1;
  ours = ours.step(`s${i}`, { accepts, emits: [last ? StopEvent : Hop[i + 1]!] }, (_ctx, ev) => {
    const n = i === 0 ? 0 : (ev.data as { n: number }).n;
    return last ? StopEvent.create({ result: n + 1 }) : Hop[i + 1]!.create({ n: n + 1 });
  }) as Workflow;
}
const Item = defineEvent("BenchItem", z.object({ i: z.number() }));
const oursStream = new Workflow({ name: "stream", timeout: null }).step(
  "emit",
  { accepts: [StartEvent], emits: [StopEvent] },
  (ctx, ev) => {
    const n = ev.data["n"] as number;
    for (let i = 0; i < n; i++) ctx.writeEventToStream(Item.create({ i }));
    return StopEvent.create({ result: n });
  },
);

// ---- peer ----
const pStart = workflowEvent<number>();
const pHops = Array.from({ length: STEPS }, () => workflowEvent<number>());
const pStop = workflowEvent<number>();
const peer = createWorkflow();
peer.handle([pStart], () => pHops[1]!.with(1));
for (let i = 1; i < STEPS; i++) {
  peer.handle([pHops[i]!], (_ctx, ev) =>
    i === STEPS - 1 ? pStop.with(ev.data + 1) : pHops[i + 1]!.with(ev.data + 1),
  );
}
const pItem = workflowEvent<number>();
const peerStream = createWorkflow();
peerStream.handle([pStart], (ctx, ev) => {
  for (let i = 0; i < ev.data; i++) ctx.sendEvent(pItem.with(i));
  return pStop.with(ev.data);
});

async function peerRun(): Promise<number> {
  const { stream, sendEvent } = peer.createContext();
  sendEvent(pStart.with(0));
  for await (const ev of stream) if (pStop.include(ev)) return ev.data;
  throw new Error("no stop");
}

async function peerStreamRun(n: number): Promise<number> {
  const { stream, sendEvent } = peerStream.createContext();
  sendEvent(pStart.with(n));
  let count = 0;
  for await (const ev of stream) {
    if (pItem.include(ev)) count++;
    if (pStop.include(ev)) return count;
  }
  throw new Error("no stop");
}

async function oursStreamRun(n: number): Promise<number> {
  const handler = oursStream.run({ n });
  let count = 0;
  for await (const ev of handler.stream()) if (ev.type === "BenchItem") count++;
  await handler;
  return count;
}

async function time(fn: () => Promise<unknown>): Promise<number> {
  const t = performance.now();
  await fn();
  return performance.now() - t;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

async function alternate(
  label: string,
  rounds: number,
  a: () => Promise<unknown>,
  b: () => Promise<unknown>,
  per: number,
  unit: string,
) {
  const ta: number[] = [];
  const tb: number[] = [];
  await a();
  await b();
  for (let r = 0; r < rounds; r++) {
    ta.push(await time(a));
    tb.push(await time(b));
  }
  const ma = (median(ta) * 1000) / per;
  const mb = (median(tb) * 1000) / per;
  console.log(
    `${label.padEnd(34)} ours ${ma.toFixed(2).padStart(8)} ${unit}   peer ${mb.toFixed(2).padStart(8)} ${unit}   ours/peer ${(ma / mb).toFixed(3)}`,
  );
}

const RUNS = quick ? 200 : 1000;
const ROUNDS = quick ? 3 : 7;

await alternate(
  `chain of ${STEPS} steps, 1 at a time`,
  ROUNDS,
  async () => {
    for (let i = 0; i < RUNS; i++) await ours.run();
  },
  async () => {
    for (let i = 0; i < RUNS; i++) await peerRun();
  },
  RUNS,
  "µs/run",
);

await alternate(
  `chain of ${STEPS} steps, 64 in flight`,
  ROUNDS,
  async () => {
    for (let i = 0; i < RUNS / 64; i++) await Promise.all(Array.from({ length: 64 }, () => ours.run()));
  },
  async () => {
    for (let i = 0; i < RUNS / 64; i++) await Promise.all(Array.from({ length: 64 }, () => peerRun()));
  },
  Math.floor(RUNS / 64) * 64,
  "µs/run",
);

for (const n of quick ? [1_000, 10_000] : [1_000, 10_000, 100_000]) {
  const tOurs: number[] = [];
  for (let r = 0; r < (n >= 100_000 ? 3 : ROUNDS); r++) tOurs.push(await time(() => oursStreamRun(n)));
  const ms = median(tOurs);
  // The peer's streaming is quadratic: at 100k events it would take minutes, so it runs up to 10k.
  let peerText = "peer (not run: quadratic, minutes at this size)";
  if (n <= 10_000) {
    const tPeer: number[] = [];
    for (let r = 0; r < (n >= 10_000 ? 1 : 3); r++) tPeer.push(await time(() => peerStreamRun(n)));
    const pms = median(tPeer);
    peerText = `peer ${((n / pms) * 1000).toFixed(0).padStart(9)} events/s   ours/peer time ${(ms / pms).toFixed(4)}`;
  }
  console.log(
    `stream ${String(n).padEnd(7)} events to one consumer  ours ${((n / ms) * 1000).toFixed(0).padStart(9)} events/s (${((ms * 1000) / n).toFixed(2)} µs/event)   ${peerText}`,
  );
}
