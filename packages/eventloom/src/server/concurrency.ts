/**
 * A workflow's run limit (`addWorkflow(name, wf, { concurrency })`): at most `limit` of its runs
 * execute at once, across every process sharing the store; with `key`, at most `limit` per key.
 */
export interface ConcurrencyOptions {
  /** How many runs (per key) execute at once: an integer of 1 or more. */
  limit: number;
  /**
   * The key a run counts against, from its start event's data (a tenant id, a user id). Missing:
   * one limit for the whole workflow.
   */
  // biome-ignore lint/suspicious/noExplicitAny: the start event's data is the user's own type
  key?: (data: any) => string;
}

/** A checked run limit. */
export interface ConcurrencyLimit {
  limit: number;
  key: ((data: Record<string, unknown>) => string) | null;
}

/** Checks `addWorkflow`'s `concurrency` option; throws a TypeError that names what is wrong. */
export function checkConcurrency(workflow: string, value: unknown): ConcurrencyLimit | null {
  if (value === undefined) return null;
  const where = `addWorkflow("${workflow}"): concurrency`;
  if (typeof value !== "object" || value === null || Array.isArray(value))
    throw new TypeError(`${where} must be an object { limit, key? }, got ${describe(value)}`);
  const { limit, key, ...rest } = value as Record<string, unknown>;
  const unknown = Object.keys(rest);
  if (unknown.length > 0) throw new TypeError(`${where} has unknown option(s): ${unknown.join(", ")}`);
  if (typeof limit !== "number" || !Number.isSafeInteger(limit) || limit < 1)
    throw new TypeError(`${where}.limit must be an integer of 1 or more, got ${describe(limit)}`);
  if (key !== undefined && typeof key !== "function")
    throw new TypeError(`${where}.key must be a function of the start event's data, got ${describe(key)}`);
  return { limit, key: (key as ConcurrencyLimit["key"]) ?? null };
}

function describe(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value);
  if (typeof value === "number" || typeof value === "boolean" || value == null) return String(value);
  return Array.isArray(value) ? "an array" : typeof value;
}
