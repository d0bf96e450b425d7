// What the /metrics observation adds to a run: the engine's 10-step chain with a journal that does
// nothing against one that feeds the run's metrics observer, alternating, in CPU time (less moved by
// other processes on a shared machine than wall time).
// Run: node_modules/.bin/tsx bench/server/metrics-overhead.ts
import { z } from "zod";
import {
  defineEvent,
  type RunJournal,
  StartEvent,
  StopEvent,
  Workflow,
} from "../../packages/eventloom/src/core/index.js";
import { ServerMetrics } from "../../packages/eventloom/src/server/metrics/index.js";

const STEPS = 10;
const RUNS = 3000;
const ROUNDS = 6;

const Hop = Array.from({ length: STEPS }, (_, i) =>
  defineEvent(`MetricsHop${i}`, z.object({ n: z.number() })),
);
let chain = new Workflow({ name: "chain", timeout: null }) as Workflow;
for (let i = 0; i < STEPS; i++) {
  const accepts = [i === 0 ? StartEvent : Hop[i]!];
  const last = i === STEPS - 1;
  chain = chain.step(`s${i}`, { accepts, emits: [last ? StopEvent : Hop[i + 1]!] }, (_ctx, ev) => {
    const n = i === 0 ? 0 : (ev.data as { n: number }).n;
    return last ? StopEvent.create({ result: n + 1 }) : Hop[i + 1]!.create({ n: n + 1 });
  }) as Workflow;
}

const metrics = new ServerMetrics();
const plain: () => RunJournal = () => ({ changed: () => {} });
const measured: () => RunJournal = () => {
  const observer = metrics.forRun("chain");
  return { changed: (engine, published) => observer.changed(engine.state, published) };
};

async function round(journal: () => RunJournal): Promise<number> {
  const c0 = process.cpuUsage();
  for (let r = 0; r < RUNS; r++) {
    await chain.run(StartEvent.create({}), { journal: journal(), keepHistory: false }).done;
  }
  const c = process.cpuUsage(c0);
  return (c.user + c.system) / RUNS;
}

const rows: [number, number][] = [];
for (let i = 0; i < ROUNDS; i++) rows.push([await round(plain), await round(measured)]);
for (const [p, m] of rows) console.log(`plain ${p.toFixed(1)} µs/run, with metrics ${m.toFixed(1)} µs/run`);
const median = (xs: number[]) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const steady = rows.slice(1);
const p = median(steady.map((r) => r[0]));
const m = median(steady.map((r) => r[1]));
console.log(
  `median of rounds 2–${ROUNDS}: ${p.toFixed(1)} → ${m.toFixed(1)} µs CPU/run (${(((m - p) / p) * 100).toFixed(1)}%), ${(((m - p) * 1000) / STEPS).toFixed(0)} ns/step`,
);
