import type { z } from "zod";
import { EventValidationError, WorkflowError } from "./errors.js";
import type { JsonValue } from "./run-state.js";
import type { IsLooseState, StatePath, StatePathDepth, StateValue } from "./state-paths.js";

const FORBIDDEN = new Set(["__proto__", "constructor", "prototype"]);

function splitPath(path: string): string[] {
  if (typeof path !== "string" || path.length === 0)
    throw new TypeError("A state path must be a non-empty string");
  const parts = path.split(".");
  for (const p of parts) {
    if (p.length === 0 || FORBIDDEN.has(p)) throw new TypeError(`Invalid state path "${path}"`);
  }
  return parts;
}

/** A deep copy that also proves the value is JSON (no functions, cycles, BigInt, NaN or undefined leaves). */
export function toJsonValue(value: unknown, where: string): JsonValue {
  if (value === undefined) throw new TypeError(`${where}: undefined is not a JSON value`);
  let text: string;
  try {
    text = JSON.stringify(value);
  } catch (cause) {
    throw new TypeError(`${where}: not a JSON value (${(cause as Error).message})`);
  }
  if (text === undefined) throw new TypeError(`${where}: not a JSON value`);
  return JSON.parse(text) as JsonValue;
}

/**
 * The run's state, `ctx.store`: JSON values under keys or dotted paths. Typed when the workflow
 * declares a state schema ({@link TypedStateStore}), loose otherwise ({@link LooseStateStore}).
 */
export type StateStore<S> = IsLooseState<S> extends true ? LooseStateStore : TypedStateStore<S>;

/**
 * The store of a workflow with a state schema: only the schema's paths (up to
 * {@link StatePathDepth} keys), each with its type; anything else does not compile.
 *
 * @example
 * new Workflow({ name: "w", state: z.object({ count: z.number().default(0) }) })
 *   .step("s", { accepts: [StartEvent], emits: [StopEvent] }, (ctx) => {
 *     ctx.store.set("count", ctx.store.get("count") + 1); // number
 *     return StopEvent.create({});
 *   });
 */
export interface TypedStateStore<S> {
  /** The value at a key or dotted path (`undefined` when a part of the path may be missing). */
  get<P extends StatePath<S>>(path: P): StateValue<S, P>;
  /** The value at a key or dotted path, or `defaultValue` when nothing is stored there. */
  get<P extends StatePath<S>>(path: P, defaultValue: Defined<StateValue<S, P>>): Defined<StateValue<S, P>>;
  /** Writes a value (never `undefined`: it is not JSON); the whole state is checked against the schema. */
  set<P extends StatePath<S>>(path: P, value: Defined<StateValue<S, P>>): void;
  /** True when a value is stored at the path. */
  has(path: StatePath<S>): boolean;
  /** A copy of the whole state. */
  toJSON(): S;
}

/** The store of a workflow without a state schema: any key or dotted path, any JSON value. */
export interface LooseStateStore {
  /** The value at a key or dotted path, or `defaultValue` when nothing is there. */
  get<T = unknown>(path: string, defaultValue?: T): T;
  /** Writes a JSON value (checked when written: no functions, cycles, `undefined` or NaN). */
  set(path: string, value: unknown): void;
  /** True when a value is stored at the path. */
  has(path: string): boolean;
  /** A copy of the whole state. */
  toJSON(): Record<string, unknown>;
}

type Defined<T> = Exclude<T, undefined>;

/** A StateStore over a plain object that the engine owns; `onChange` runs after every write. */
export function createStateStore<S>(
  read: () => Record<string, JsonValue>,
  write: (next: Record<string, JsonValue>) => void,
  // biome-ignore lint/suspicious/noExplicitAny: any input type
  schema: z.ZodType<S, any> | null,
): StateStore<S> {
  const lookup = (path: string): { found: boolean; value: unknown } => {
    let node: unknown = read();
    for (const part of splitPath(path)) {
      if (typeof node !== "object" || node === null || !Object.hasOwn(node, part))
        return { found: false, value: undefined };
      node = (node as Record<string, unknown>)[part];
    }
    return { found: true, value: node };
  };
  return {
    get(path: string, defaultValue?: unknown) {
      const { found, value } = lookup(path);
      if (!found) return defaultValue;
      return typeof value === "object" && value !== null ? structuredClone(value) : value;
    },
    has: (path) => lookup(path).found,
    set(path: string, value: unknown) {
      const parts = splitPath(path);
      const json = toJsonValue(value, `store.set("${path}")`);
      const next = structuredClone(read());
      let node: Record<string, JsonValue> = next;
      for (const part of parts.slice(0, -1)) {
        const child = node[part];
        if (typeof child !== "object" || child === null || Array.isArray(child)) node[part] = {};
        node = node[part] as Record<string, JsonValue>;
      }
      node[parts[parts.length - 1] as string] = json;
      if (schema) {
        const parsed = schema.safeParse(next);
        if (!parsed.success) throw new EventValidationError("state", parsed.error.issues);
      }
      write(next);
    },
    toJSON: () => structuredClone(read()),
  } as LooseStateStore as StateStore<S>;
}

/** Thrown when state is written from a step of a run that has ended or been suspended. */
export class StaleStepError extends WorkflowError {
  constructor() {
    super("HANDLER_ENDED", "The run this step belongs to is no longer running");
  }
}
