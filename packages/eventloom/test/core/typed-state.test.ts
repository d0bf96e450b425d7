// The promises of `ctx.store`'s types. The package's typecheck (`npm run typecheck`, which runs
// `tsc -p packages/eventloom/tsconfig.json`) compiles this file: a `@ts-expect-error` line that no
// longer fails to compile is itself an error there, and `expectTypeOf` mismatches are type errors.
// Where the run time can agree with the compiler, the test checks that it does.

import {
  Context,
  type EventValidationError,
  type LooseStateStore,
  StartEvent,
  type StatePath,
  type StateStore,
  type StateValue,
  StopEvent,
  Workflow,
} from "eventloom";
import { describe, expect, expectTypeOf, it } from "vitest";
import { z } from "zod";

const TripState = z.object({
  count: z.number().int().default(0),
  label: z.string().optional(),
  user: z.object({ name: z.string(), address: z.object({ city: z.string() }).optional() }).default({
    name: "Ada",
  }),
  tags: z.array(z.string()).default([]),
  scores: z.record(z.string(), z.number()).default({}),
  deep: z.object({ a: z.object({ b: z.object({ c: z.object({ d: z.number() }) }) }) }).optional(),
});
type Trip = z.output<typeof TripState>;

/** Runs one step with a typed store and gives back what the step returned. */
function withTypedStore<T>(use: (store: StateStore<Trip>) => T): Promise<T> {
  let out: T | undefined;
  const wf = new Workflow({ name: "typed-state", state: TripState }).step(
    "use",
    { accepts: [StartEvent], emits: [StopEvent] },
    (ctx) => {
      out = use(ctx.store);
      return StopEvent.create({});
    },
  );
  return wf.run().then(() => out as T);
}

describe("a store typed by the workflow's state schema", () => {
  it("types each path's value from the schema's output, with undefined where a part may be missing", () => {
    expectTypeOf<StateValue<Trip, "count">>().toEqualTypeOf<number>();
    expectTypeOf<StateValue<Trip, "label">>().toEqualTypeOf<string | undefined>();
    expectTypeOf<StateValue<Trip, "user.name">>().toEqualTypeOf<string>();
    expectTypeOf<StateValue<Trip, "user.address.city">>().toEqualTypeOf<string | undefined>();
    expectTypeOf<StateValue<Trip, "tags">>().toEqualTypeOf<string[]>();
    expectTypeOf<StateValue<Trip, "scores.ada">>().toEqualTypeOf<number | undefined>();
    expectTypeOf<StateValue<Trip, "deep.a.b.c">>().toEqualTypeOf<{ d: number } | undefined>();
  });

  it("offers paths of up to four keys, never into arrays", () => {
    expectTypeOf<"user.address.city">().toExtend<StatePath<Trip>>();
    expectTypeOf<"deep.a.b.c">().toExtend<StatePath<Trip>>();
    expectTypeOf<"deep.a.b.c.d">().not.toExtend<StatePath<Trip>>();
    expectTypeOf<"tags.0">().not.toExtend<StatePath<Trip>>();
    expectTypeOf<"cuont">().not.toExtend<StatePath<Trip>>();
  });

  it("reads and writes the typed paths at run time as their types say", async () => {
    const seen = await withTypedStore((store) => {
      store.set("count", store.get("count") + 1);
      store.set("user.address.city", "Lisbon");
      store.set("scores.ada", 3);
      const city: string | undefined = store.get("user.address.city");
      const label: string = store.get("label", "none");
      return { city, label, count: store.get("count"), ada: store.get("scores.ada"), all: store.toJSON() };
    });
    expect(seen).toEqual({
      city: "Lisbon",
      label: "none",
      count: 1,
      ada: 3,
      all: { count: 1, user: { name: "Ada", address: { city: "Lisbon" } }, tags: [], scores: { ada: 3 } },
    });
  });

  it("does not compile a wrong value, a misspelt path, undefined or a path into an array", async () => {
    const refused = await withTypedStore((store) => {
      const errors: unknown[] = [];
      const attempt = (write: () => void) => {
        try {
          write();
        } catch (error) {
          errors.push(error);
        }
      };
      // @ts-expect-error count is a number
      attempt(() => store.set("count", "nope"));
      // @ts-expect-error a nested field keeps its type
      attempt(() => store.set("user.name", 5));
      // @ts-expect-error undefined is not a JSON value
      attempt(() => store.set("label", undefined));
      // @ts-expect-error a default must have the field's type
      attempt(() => store.get("count", "zero"));
      // @ts-expect-error "cuont" is not in the schema
      attempt(() => store.set("cuont", 1));
      // @ts-expect-error paths stop at arrays
      attempt(() => store.set("tags.0", "x"));
      // @ts-expect-error "nope" is not in the schema
      attempt(() => store.has("nope"));
      return errors;
    });
    // the run time refuses what it can check: the wrong types and undefined
    expect(refused.slice(0, 3).map((e) => (e as EventValidationError | TypeError).name)).toEqual([
      "EventValidationError",
      "EventValidationError",
      "TypeError",
    ]);
  });

  it("types the store of the handler's context and of a context rebuilt from JSON", async () => {
    const wf = new Workflow({ name: "typed-handler", state: TripState }).step(
      "bump",
      { accepts: [StartEvent], emits: [StopEvent] },
      (ctx) => {
        ctx.store.set("count", 41);
        return StopEvent.create({});
      },
    );
    const handler = wf.run();
    await handler;
    const count = handler.context.store.get("count");
    expectTypeOf(count).toEqualTypeOf<number>();
    expect(count).toBe(41);
    const rebuilt = Context.fromJSON(wf, JSON.parse(JSON.stringify(handler.context.toJSON())));
    expectTypeOf(rebuilt.store.get("user.name")).toEqualTypeOf<string>();
    expect(rebuilt.store.get("user.name")).toBe("Ada");
  });
});

describe("a store without a state schema", () => {
  it("stays loose: any path, any JSON value, values typed by the caller", async () => {
    expectTypeOf<StateStore<Record<string, unknown>>>().toEqualTypeOf<LooseStateStore>();
    const wf = new Workflow({ name: "loose-state" }).step(
      "use",
      { accepts: [StartEvent], emits: [StopEvent] },
      (ctx) => {
        expectTypeOf(ctx.store).toEqualTypeOf<LooseStateStore>();
        ctx.store.set("anything.at.all", { deep: [1, 2] });
        const n: number = ctx.store.get("n", 2);
        return StopEvent.create({ result: [ctx.store.get<number[]>("anything.at.all.deep"), n] });
      },
    );
    expect(await wf.run()).toEqual([[1, 2], 2]);
  });
});
