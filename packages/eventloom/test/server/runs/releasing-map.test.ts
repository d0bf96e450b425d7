// ReleasingMap answers as a Map does, for any sequence of changes (fast-check against a real Map),
// and a traced run's aroundStep is one function shared by every run, never a closure of its own
// (either one, undone, brought back the promotion of every run's objects measured in bench/README.md,
// "Tracing's garbage, found").
import fc from "fast-check";
import { expect, test } from "vitest";
import type { QueuedItem } from "../../../src/core/index.js";
import { systemClock } from "../../../src/core/index.js";
import type { RegisteredWorkflow } from "../../../src/server/registry.js";
import { ReleasingMap } from "../../../src/server/releasing-map.js";
import { LiveRun } from "../../../src/server/runs/live-run.js";
import type { RunTracer } from "../../../src/server/tracing/index.js";

type Op = { kind: "set"; key: string; value: number } | { kind: "delete"; key: string } | { kind: "clear" };

const op: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      kind: fc.constant("set" as const),
      key: fc.constantFrom("a", "b", "c", "d", "e"),
      value: fc.integer(),
    }),
  },
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant("delete" as const),
      key: fc.constantFrom("a", "b", "c", "d", "e", "z"),
    }),
  },
  { weight: 1, arbitrary: fc.constant({ kind: "clear" as const }) },
);

test("answers as a Map does after any sequence of set, delete and clear", () => {
  fc.assert(
    fc.property(fc.array(op, { maxLength: 60 }), (ops) => {
      const map = new Map<string, number>();
      const releasing = new ReleasingMap<string, number>();
      for (const o of ops) {
        if (o.kind === "set") expect(releasing.set(o.key, o.value)).toBe(releasing);
        if (o.kind === "set") map.set(o.key, o.value);
        if (o.kind === "delete") expect(releasing.delete(o.key)).toBe(map.delete(o.key));
        if (o.kind === "clear") {
          map.clear();
          releasing.clear();
        }
        expect(releasing.size).toBe(map.size);
        expect([...releasing]).toEqual([...map]);
        expect([...releasing.keys()]).toEqual([...map.keys()]);
        expect([...releasing.values()]).toEqual([...map.values()]);
        for (const key of ["a", "b", "c", "d", "e", "z"]) {
          expect(releasing.has(key)).toBe(map.has(key));
          expect(releasing.get(key)).toBe(map.get(key));
        }
      }
    }),
  );
});

test("an entry deleted while iterating is skipped, as in a Map", () => {
  const releasing = new ReleasingMap<string, number>();
  for (const [i, key] of ["a", "b", "c"].entries()) releasing.set(key, i);
  const seen: string[] = [];
  for (const [key] of releasing) {
    seen.push(key);
    if (key === "a") releasing.delete("b");
  }
  expect(seen).toEqual(["a", "c"]);
});

test("a traced run's aroundStep is one function for every run, calling that run's own tracer", () => {
  const calls: string[] = [];
  const tracer = (name: string): RunTracer => ({
    changed: () => undefined,
    stepFailed: () => undefined,
    aroundStep: (_item, call) => {
      calls.push(name);
      return call();
    },
  });
  const entry = { name: "wf" } as RegisteredWorkflow;
  const run = (id: string, trace: RunTracer | null) =>
    new LiveRun(id, entry, systemClock, () => undefined, null, undefined, trace);
  const a = run("a", tracer("a"));
  const b = run("b", tracer("b"));
  expect(typeof a.aroundStep).toBe("function");
  expect(a.aroundStep).toBe(b.aroundStep);
  expect(run("c", null).aroundStep).toBeUndefined();
  const item = {} as QueuedItem;
  expect(a.aroundStep?.(item, () => "from a")).toBe("from a");
  expect(b.aroundStep?.(item, () => "from b")).toBe("from b");
  expect(calls).toEqual(["a", "b"]);
});
