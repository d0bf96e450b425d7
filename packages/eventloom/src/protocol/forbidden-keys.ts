import { WorkflowError } from "../core/errors.js";

/** Keys that change an object's prototype or constructor when copied into one by assignment. */
const FORBIDDEN = new Set(["__proto__", "constructor", "prototype"]);

/** Deeper than this, a body is refused rather than walked (JSON.parse itself has no limit). */
const MAX_DEPTH = 256;

/**
 * Throws `FORBIDDEN_KEY` (400) when a JSON value holds an object key `__proto__`, `constructor` or
 * `prototype` at any depth, naming where; the whole parsed body of every request goes through it once.
 *
 * @throws WorkflowError `FORBIDDEN_KEY`, or `INVALID_BODY` for a value nested too deeply.
 */
export function refuseForbiddenKeys(value: unknown, path = ""): void {
  const found = findRefused(value, 0);
  if (found === null) return;
  // The path is built only now: the walk of an accepted body allocates nothing per key.
  const at = [path, ...found.keys.reverse()].filter((part) => part !== "").join(".");
  if (found.deep) {
    throw new WorkflowError("INVALID_BODY", `Invalid ${at || "body"}: nested too deeply`, {
      issues: [{ path: at || "body", message: "Nested too deeply" }],
    });
  }
  const key = found.keys[found.keys.length - 1] as string;
  throw new WorkflowError("FORBIDDEN_KEY", `Forbidden key "${key}" at ${at}`, {
    issues: [{ path: at, message: `Forbidden key ${key}` }],
  });
}

/** What was refused: a forbidden key or a value nested too deeply, and the keys to it, innermost first. */
interface Refused {
  deep: boolean;
  keys: string[];
}

// Recursion is bounded by MAX_DEPTH + 1 frames. Each object's own keys are looked at before its values.
function findRefused(v: unknown, depth: number): Refused | null {
  if (typeof v !== "object" || v === null) return null;
  if (depth > MAX_DEPTH) return { deep: true, keys: [] };
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) {
      const found = findRefused(v[i], depth + 1);
      if (found) {
        found.keys.push(String(i));
        return found;
      }
    }
    return null;
  }
  const keys = Object.keys(v);
  for (const key of keys) if (FORBIDDEN.has(key)) return { deep: false, keys: [key] };
  for (const key of keys) {
    const found = findRefused((v as Record<string, unknown>)[key], depth + 1);
    if (found) {
      found.keys.push(key);
      return found;
    }
  }
  return null;
}
