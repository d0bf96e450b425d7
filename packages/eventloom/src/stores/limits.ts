/** The largest page `listHandlers` returns. */
export const MAX_LIST_LIMIT = 1000;

/** Throws a RangeError unless `limit` is an integer in 1..{@link MAX_LIST_LIMIT}. */
export function checkListLimit(limit: number): void {
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIST_LIMIT) {
    throw new RangeError(`limit must be an integer from 1 to ${MAX_LIST_LIMIT}, got ${limit}`);
  }
}

/** Throws a RangeError unless `limit` is a non-negative safe integer. */
export function checkReadLimit(limit: number): void {
  if (!Number.isSafeInteger(limit) || limit < 0) {
    throw new RangeError(`limit must be a non-negative integer, got ${limit}`);
  }
}

/** Throws a RangeError unless `sequence` is a non-negative safe integer. */
export function checkSequence(handlerId: string, sequence: number): void {
  if (!Number.isSafeInteger(sequence) || sequence < 0) {
    throw new RangeError(
      `Event sequence of handler "${handlerId}" must be a non-negative integer, got ${sequence}`,
    );
  }
}

/** Throws a RangeError unless `after` is a safe integer (-1 reads from the first event). */
export function checkAfterSequence(after: number): void {
  if (!Number.isSafeInteger(after)) {
    throw new RangeError(`afterSequence must be an integer, got ${after}`);
  }
}

/**
 * The characters a listed error over `maxBytes` bytes is cut to: at most `maxBytes` bytes of UTF-8
 * whatever they are (4 bytes a character at most), and a 32-bit integer for the SQL of both stores.
 */
export function errorChars(maxBytes: number): number {
  return Math.min(2 ** 31 - 1, Math.floor(maxBytes / 4));
}
