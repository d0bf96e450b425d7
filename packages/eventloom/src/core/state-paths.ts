// Types only: the dotted paths of a typed state and the value at each, for `ctx.store`.

/** How many keys a typed path may have (`a.b.c.d`); deeper values are read through their parent. */
export type StatePathDepth = 4;

// Countdown for the recursion: Next[4] = 3, …, Next[1] = 0, and 0 stops it.
type Next = [never, 0, 1, 2, 3, 4];

/**
 * Every dotted path into `S`, up to {@link StatePathDepth} keys, through plain objects (also optional
 * and nullable ones). Arrays and functions are leaves: a path never indexes an array (`set` would
 * replace the array with an object). Keys that contain a dot cannot be addressed and are left out.
 *
 * @example
 * type P = StatePath<{ count: number; user: { name: string } }>; // "count" | "user" | "user.name"
 */
export type StatePath<S, D extends number = StatePathDepth> = D extends 0
  ? never
  : S extends readonly unknown[] | ((...args: never[]) => unknown)
    ? never
    : S extends object
      ? {
          [K in keyof S & string]-?: K extends `${string}.${string}`
            ? never
            : K | `${K}.${StatePath<NonNullable<S[K]>, Next[D]>}`;
        }[keyof S & string]
      : never;

// The value under one key, distributed over `S`'s members: a member without the key (undefined,
// null, another object of a union) gives undefined, as does a record whose keys are any string.
type At<S, K extends string> = S extends unknown
  ? K extends keyof S
    ? S[K] | (string extends keyof S ? undefined : never)
    : undefined
  : never;

/**
 * The value at a dotted path of `S`, with `undefined` when a step on the way may be missing.
 *
 * @example
 * type V = StateValue<{ user?: { name: string } }, "user.name">; // string | undefined
 */
export type StateValue<S, P extends string> = P extends `${infer K}.${infer Rest}`
  ? StateValue<At<S, K>, Rest>
  : At<S, P>;

/** True when `S` takes any key with any value: no state schema, or one that lets every key in. */
export type IsLooseState<S> = string extends keyof S ? (unknown extends S[keyof S] ? true : false) : false;
