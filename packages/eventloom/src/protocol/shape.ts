/**
 * Small checks of a parsed JSON value's shape, without zod, for the client (which runs in browsers
 * and must stay small). Each returns the value as typed, objects rebuilt with only their known keys
 * as zod's objects are, or throws {@link ShapeError} naming where the value went wrong.
 */

/** A check of one value; `path` is where the value sits ("" for the whole answer). */
export type Shape<T> = ((value: unknown, path: string) => T) & { optional?: true };

/** The value does not fit: `path` is dotted ("handlers.0.status"), "" for the whole value. */
export class ShapeError extends Error {
  readonly path: string;

  constructor(path: string, message: string) {
    super(`${path || "(body)"}: ${message}`);
    this.name = "ShapeError";
    this.path = path;
  }
}

const kindOf = (v: unknown): string => (v === null ? "null" : Array.isArray(v) ? "array" : typeof v);

const fail = (path: string, expected: string, value: unknown): never => {
  throw new ShapeError(path, `expected ${expected}, received ${kindOf(value)}`);
};

const at = (path: string, key: string | number): string => (path === "" ? String(key) : `${path}.${key}`);

// JSON.parse makes no other objects; zod's record also refuses class instances, which JSON never holds
const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

/** A string. */
export const string: Shape<string> = (v, p) => (typeof v === "string" ? v : fail(p, "string", v));

/** Exactly `true`. */
export const isTrue: Shape<true> = (v, p) => (v === true ? true : fail(p, "true", v));

/** Any value, as is (the key must still be present in an object). */
export const unknown: Shape<unknown> = (v) => v;

/** A safe integer ≥ 0. */
export const natural: Shape<number> = (v, p) =>
  typeof v === "number" && Number.isSafeInteger(v) && v >= 0 ? v : fail(p, "an integer >= 0", v);

/** A string matching `pattern`, described as `what` in errors. */
export const matching =
  (pattern: RegExp, what: string): Shape<string> =>
  (v, p) =>
    typeof v === "string" && pattern.test(v) ? v : fail(p, what, v);

/** One of a few strings. */
export const oneOf =
  <const T extends readonly string[]>(values: T): Shape<T[number]> =>
  (v, p) =>
    values.includes(v as string) ? (v as T[number]) : fail(p, `one of ${values.join("|")}`, v);

/** `shape`, or null. */
export const nullable =
  <T>(shape: Shape<T>): Shape<T | null> =>
  (v, p) =>
    v === null ? null : shape(v, p);

/** A key that may be missing (or undefined). */
export const optional = <T>(shape: Shape<T>): Shape<T | undefined> =>
  Object.assign((v: unknown, p: string) => (v === undefined ? undefined : shape(v, p)), {
    optional: true as const,
  });

/** An array whose every item fits `shape`. */
export const array =
  <T>(shape: Shape<T>): Shape<T[]> =>
  (v, p) =>
    Array.isArray(v) ? v.map((item, i) => shape(item, at(p, i))) : fail(p, "array", v);

/** A JSON object of any keys, copied without a `__proto__` key (as zod's record drops it). */
export const record: Shape<Record<string, unknown>> = (v, p) => {
  if (!isPlainObject(v)) return fail(p, "object", v);
  if (!Object.hasOwn(v, "__proto__")) return { ...v };
  const { __proto__: _dropped, ...rest } = v;
  return rest;
};

type Fields = Record<string, Shape<unknown>>;
type Out<S> = S extends Shape<infer T> ? T : never;
type OptionalKeys<F extends Fields> = {
  [K in keyof F]: F[K] extends { optional: true } ? K : never;
}[keyof F];
type ObjectOf<F extends Fields> = { [K in Exclude<keyof F, OptionalKeys<F>>]: Out<F[K]> } & {
  [K in OptionalKeys<F>]?: Out<F[K]>;
};

/** An object with these keys (every other key is dropped); a key that is not optional must be present. */
export const object =
  <F extends Fields>(fields: F): Shape<ObjectOf<F>> =>
  (v, p) => {
    if (!isPlainObject(v)) return fail(p, "object", v);
    const out: Record<string, unknown> = {};
    for (const key in fields) {
      const shape = fields[key]!;
      if (!(key in v) || v[key] === undefined) {
        if (shape.optional) continue;
        if (!(key in v)) throw new ShapeError(at(p, key), "missing");
      }
      out[key] = shape(v[key], at(p, key));
    }
    return out as ObjectOf<F>;
  };

/** One of several object shapes, chosen by the string at `key`. */
export const tagged =
  <S extends Record<string, Shape<unknown>>>(key: string, shapes: S): Shape<Out<S[keyof S]>> =>
  (v, p) => {
    if (!isPlainObject(v)) return fail(p, "object", v);
    const tag = v[key];
    const shape = typeof tag === "string" && Object.hasOwn(shapes, tag) ? shapes[tag] : undefined;
    return shape
      ? (shape(v, p) as Out<S[keyof S]>)
      : fail(at(p, key), `one of ${Object.keys(shapes).join("|")}`, tag);
  };

/** `shape`'s verdict on `value`, without throwing: the value, or the error naming the first problem. */
export function checkShape<T>(
  shape: Shape<T>,
  value: unknown,
): { ok: true; value: T } | { ok: false; error: ShapeError } {
  try {
    return { ok: true, value: shape(value, "") };
  } catch (error) {
    if (error instanceof ShapeError) return { ok: false, error };
    throw error;
  }
}
