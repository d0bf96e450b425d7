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
 * Whether `value`'s JSON text is more than `limit` bytes of UTF-8. A text of at most a third of the
 * limit in code units fits without a scan (a code unit is 1 to 3 bytes): the common case is cheap.
 */
export function jsonLargerThan(value: unknown, limit: number): { larger: boolean; bytes: number } {
  const text = jsonText(value);
  // `bytes` is exact only when it is needed: for a text that is larger.
  if (text.length * 3 <= limit) return { larger: false, bytes: text.length };
  const bytes = utf8Length(text);
  return { larger: bytes > limit, bytes };
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
