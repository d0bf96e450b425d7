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
  // An explicit stack: a deeply nested body must not overflow the call stack.
  const stack: { value: unknown; path: string; depth: number }[] = [{ value, path, depth: 0 }];
  for (let top = stack.pop(); top !== undefined; top = stack.pop()) {
    const v = top.value;
    if (typeof v !== "object" || v === null) continue;
    if (top.depth > MAX_DEPTH) {
      throw new WorkflowError("INVALID_BODY", `Invalid ${top.path || "body"}: nested too deeply`, {
        issues: [{ path: top.path || "body", message: "Nested too deeply" }],
      });
    }
    if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i++) {
        stack.push({ value: v[i], path: join(top.path, String(i)), depth: top.depth + 1 });
      }
      continue;
    }
    for (const key of Object.keys(v)) {
      const at = join(top.path, key);
      if (FORBIDDEN.has(key)) {
        throw new WorkflowError("FORBIDDEN_KEY", `Forbidden key "${key}" at ${at}`, {
          issues: [{ path: at, message: `Forbidden key ${key}` }],
        });
      }
      stack.push({ value: (v as Record<string, unknown>)[key], path: at, depth: top.depth + 1 });
    }
  }
}

const join = (path: string, key: string): string => (path === "" ? key : `${path}.${key}`);
