// What the server's maxEventBytes check adds to a run: the engine's 10-step chain, each step also
// streaming one small event, without a limit (null, as outside a server) against the server's 1 MiB,
// alternating, in CPU time (less moved by other processes on a shared machine than wall time).
// Run: node_modules/.bin/tsx bench/server/event-size-overhead.ts
import { z } from "zod";
import { defineEvent, StartEvent, StopEvent, Workflow } from "../../packages/eventloom/src/core/index.js";

const STEPS = 10;
const RUNS = 3000;
const ROUNDS = 6;

const Hop = Array.from({ length: STEPS }, (_, i) => defineEvent(`SizeHop${i}`, z.object({ n: z.number() })));
const Note = defineEvent("SizeNote", z.object({ step: z.number(), text: z.string() }));
let chain = new Workflow({ name: "chain", timeout: null }) as Workflow;
for (let i = 0; i < STEPS; i++) {
  const accepts = [i === 0 ? StartEvent : Hop[i]!];
  const last = i === STEPS - 1;
  chain = chain.step(`s${i}`, { accepts, emits: [last ? StopEvent : Hop[i + 1]!] }, (ctx, ev) => {
    const n = i === 0 ? 0 : (ev.data as { n: number }).n;
    ctx.writeEventToStream(Note.create({ step: i, text: "a typical progress message of a step" }));
    return last ? StopEvent.create({ result: n + 1 }) : Hop[i + 1]!.create({ n: n + 1 });
  }) as Workflow;
}

async function round(maxEventBytes: number | null): Promise<number> {
  const c0 = process.cpuUsage();
  for (let r = 0; r < RUNS; r++) {
    await chain.run(StartEvent.create({}), { keepHistory: false, maxEventBytes }).done;
  }
  const c = process.cpuUsage(c0);
  return (c.user + c.system) / RUNS;
}

const rows: [number, number][] = [];
for (let i = 0; i < ROUNDS; i++) rows.push([await round(null), await round(1024 * 1024)]);
for (const [a, b] of rows) console.log(`no limit ${a.toFixed(1)} µs/run, 1 MiB ${b.toFixed(1)} µs/run`);
const median = (xs: number[]) => xs.sort((x, y) => x - y)[Math.floor(xs.length / 2)]!;
const steady = rows.slice(1);
const a = median(steady.map((r) => r[0]));
const b = median(steady.map((r) => r[1]));
const checks = 2 * STEPS; // each step's streamed event and its returned one
console.log(
  `median of rounds 2–${ROUNDS}: ${a.toFixed(1)} → ${b.toFixed(1)} µs CPU/run (${(((b - a) / a) * 100).toFixed(1)}%), ${(((b - a) * 1000) / checks).toFixed(0)} ns/event checked`,
);
