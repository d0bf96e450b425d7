import { defineEvent, type EventDefinition, type RunState, StartEvent, StopEvent, Workflow } from "eventloom";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { z } from "zod";

const Value = z.object({ value: z.number() });
const nodeEvents = Array.from({ length: 10 }, (_, i) => defineEvent(`PropNode${i}`, Value));

/** A random DAG: node 0 takes the start event, node n-1 collects every path and stops. */
const dagArb = fc.integer({ min: 2, max: 7 }).chain((n) =>
  fc
    .tuple(
      ...Array.from({ length: n - 1 }, (_, i) =>
        fc.uniqueArray(fc.integer({ min: i + 1, max: n - 1 }), { minLength: 1, maxLength: n - 1 - i }),
      ),
      fc.array(fc.nat({ max: 2 }), { minLength: n, maxLength: n }),
    )
    .map((parts) => {
      // node i always feeds node i+1, so every node is reachable and reaches the last one
      const successors = (parts.slice(0, n - 1) as number[][]).map((s, i) => [...new Set([i + 1, ...s])]);
      const delays = parts[n - 1] as number[];
      return { n, successors, delays };
    }),
);

type Dag = { n: number; successors: number[][]; delays: number[] };

/** Number of paths from node 0 to each node, and the sum of path values arriving at the last node. */
function expected(dag: Dag): { paths: number[]; total: number } {
  const paths = Array.from({ length: dag.n }, () => 0);
  const sums = Array.from({ length: dag.n }, () => 0);
  paths[0] = 1;
  sums[0] = 0;
  for (let i = 0; i < dag.n - 1; i++) {
    for (const j of dag.successors[i] ?? []) {
      paths[j] = (paths[j] ?? 0) + (paths[i] ?? 0);
      // every event leaving node i carries (value arriving) + i
      sums[j] = (sums[j] ?? 0) + (sums[i] ?? 0) + i * (paths[i] ?? 0);
    }
  }
  return { paths, total: sums[dag.n - 1] ?? 0 };
}

async function pause(ticks: number): Promise<void> {
  for (let i = 0; i < ticks; i++) await new Promise<void>((r) => setImmediate(r));
}

function build(dag: Dag): Workflow {
  const { paths } = expected(dag);
  let wf = new Workflow({ name: "dag" }) as Workflow;
  for (let i = 0; i < dag.n; i++) {
    const accepts: EventDefinition[] = [i === 0 ? StartEvent : (nodeEvents[i] as EventDefinition)];
    if (i === dag.n - 1) {
      wf = wf.step(`node${i}`, { accepts, emits: [StopEvent] }, async (ctx, ev) => {
        await pause(dag.delays[i] ?? 0);
        const all = ctx.collectEvents(
          ev,
          Array.from({ length: paths[i] ?? 0 }, () => nodeEvents[i] as EventDefinition),
        );
        if (!all) return null;
        return StopEvent.create({ result: all.reduce((s, e) => s + (e.data as { value: number }).value, 0) });
      }) as Workflow;
    } else {
      const next = (dag.successors[i] ?? []).map((j) => nodeEvents[j] as EventDefinition);
      wf = wf.step(`node${i}`, { accepts, emits: next }, async (_ctx, ev) => {
        await pause(dag.delays[i] ?? 0);
        const incoming = i === 0 ? 0 : (ev.data as { value: number }).value;
        return next.map((d) => d.create({ value: incoming + i }));
      }) as Workflow;
    }
  }
  return wf;
}

describe("engine properties", () => {
  it("random acyclic step graphs always reach their stop event with the expected result", async () => {
    await fc.assert(
      fc.asyncProperty(dagArb, async (dag) => {
        const result = await build(dag).run();
        expect(result).toBe(expected(dag).total);
      }),
      { numRuns: 60 },
    );
  });

  it("resuming from the context serialized at any change gives the result of an uninterrupted run", async () => {
    await fc.assert(
      fc.asyncProperty(dagArb, fc.nat(), async (dag, pick) => {
        const snapshots: string[] = [];
        const first = build(dag).run(undefined, {
          journal: {
            changed(engine) {
              if (engine.state.status === "running") snapshots.push(JSON.stringify(engine.state));
            },
          },
        });
        await first;
        const snapshot = JSON.parse(snapshots[pick % snapshots.length] as string) as RunState;
        const resumed = build(dag).run(undefined, { context: snapshot });
        expect(await resumed).toBe(expected(dag).total);
      }),
      { numRuns: 60 },
    );
  });
});
