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
 * The UTF-8 length of `value`'s JSON text as a store keeps it (a bigint as its digits); 0 when JSON
 * cannot hold it at all (a cycle: what is kept of it then is its short `String()`).
 */
export function jsonBytes(value: unknown): number {
  try {
    return utf8Length(JSON.stringify(value) ?? "");
  } catch {
    try {
      const text = JSON.stringify(value, (_key, v: unknown) => (typeof v === "bigint" ? v.toString() : v));
      return utf8Length(text ?? "");
    } catch {
      return 0;
    }
  }
}
