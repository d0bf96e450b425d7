/** The UTF-8 length in bytes of `text` (a lone surrogate counts as the 3 bytes of U+FFFD, as encoders write it). */
export function utf8Length(text: string): number {
  let bytes = text.length;
  // Fast exit for ASCII, the common case: one byte per code unit.
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) continue;
    if (c < 0x800) bytes += 1;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        // A surrogate pair: 4 bytes for 2 code units.
        bytes += 2;
        i++;
      } else bytes += 2;
    } else bytes += 2;
  }
  return bytes;
}

/**
 * Whether `value`'s JSON text is more than `limit` bytes of UTF-8. A quick upper bound decides for
 * the common, small value without serializing it; only a value near or over the limit is serialized
 * and measured exactly (`bytes` is exact only then).
 */
export function jsonLargerThan(value: unknown, limit: number): { larger: boolean; bytes: number } {
  const upper = jsonBound(value, limit, 0);
  if (upper <= limit) return { larger: false, bytes: upper };
  const bytes = utf8Length(jsonText(value));
  return { larger: bytes > limit, bytes };
}

/**
 * At least the UTF-8 length of `value`'s JSON (a code unit is at most 6 bytes once escaped), or
 * Infinity once it passes `budget` or cannot be told without serializing (`toJSON`, deep nesting).
 */
function jsonBound(value: unknown, budget: number, depth: number): number {
  switch (typeof value) {
    case "string":
      return 6 * value.length + 2;
    case "number":
      return 24;
    case "boolean":
      return 5;
    case "bigint":
      return value.toString().length + 2;
    case "object": {
      if (value === null) return 4;
      if (depth > 16 || typeof (value as { toJSON?: unknown }).toJSON === "function") return Infinity;
      let total = 2;
      if (Array.isArray(value)) {
        for (const item of value) {
          total += jsonBound(item, budget - total, depth + 1) + 1;
          if (total > budget) return Infinity;
        }
        return total;
      }
      for (const key in value) {
        total +=
          6 * key.length + 4 + jsonBound((value as Record<string, unknown>)[key], budget - total, depth + 1);
        if (total > budget) return Infinity;
      }
      return total;
    }
    default:
      return 0; // undefined, functions and symbols are left out
  }
}

function jsonText(value: unknown): string {
  try {
    return JSON.stringify(value) ?? "";
  } catch {
    try {
      return JSON.stringify(value, (_key, v: unknown) => (typeof v === "bigint" ? v.toString() : v)) ?? "";
    } catch {
      return "";
    }
  }
}

/**
 * The UTF-8 length of `value`'s JSON text as a store keeps it (a bigint as its digits); 0 when JSON
 * cannot hold it at all (a cycle: what is kept of it then is its short `String()`).
 */
export const jsonBytes = (value: unknown): number => utf8Length(jsonText(value));
