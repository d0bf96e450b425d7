/** Where the engine gets time from; tests inject their own to control timeouts and retries. */
export interface Clock {
  /** Epoch milliseconds. */
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/** The real clock. */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, Math.max(0, Math.min(ms, 2_147_483_647))),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

let lastMs = Number.NaN;
let lastIso = "";

/** ISO 8601 UTC with milliseconds: `2024-10-21T14:32:15.123Z`. */
export function isoTime(epochMs: number): string {
  // Events come in bursts within one millisecond: format each millisecond once.
  if (epochMs !== lastMs) {
    lastMs = epochMs;
    lastIso = new Date(epochMs).toISOString();
  }
  return lastIso;
}

const POOL_IDS = 256;
let pool = new Uint8Array(0);
let poolOffset = 0;
/** 64 URL-safe characters in ASCII order, so that ids compare as their numbers do. */
const ALPHABET = "-0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz";
const ID_LENGTH = 22;
const TIME_CHARS = 8;
/** The first character is never `-`: an id such as `-x3…` would read as an option to curl or a CLI. */
const FIRST_CHARS = ALPHABET.length - 1;
/** Epoch milliseconds a time-ordered id can hold: its first character counts from `0`, not `-`. */
const MAX_TIME_MS = FIRST_CHARS * 64 ** (TIME_CHARS - 1) - 1;

/** The character codes of {@link ALPHABET}. */
const CODES = Array.from(ALPHABET, (c) => c.charCodeAt(0));
/** The id being made, as character codes: one string is made of it at the end, not one per character. */
const scratch: number[] = new Array(ID_LENGTH).fill(0);

/** The next random number below 64. */
function random64(): number {
  // Random bytes are drawn from the platform's CSPRNG a few KiB at a time: one call per id costs
  // more than the rest of a trivial run.
  if (poolOffset >= pool.length) {
    pool = new Uint8Array(ID_LENGTH * POOL_IDS);
    globalThis.crypto.getRandomValues(pool);
    poolOffset = 0;
  }
  return (pool[poolOffset++] as number) & 63;
}

/** The id whose first `from` characters are in `scratch` already, the rest random. */
function finishId(from: number): string {
  for (let i = from; i < ID_LENGTH; i++) scratch[i] = CODES[random64()] as number;
  return String.fromCharCode.apply(null, scratch);
}

/** A URL-safe, unguessable id of 22 characters (about 132 random bits) that never starts with `-`. */
export function randomId(): string {
  // Redraws the 1 in 64 that would be `-`: uniform over the other 63 characters, unlike a modulo.
  let first = 0;
  while (first === 0) first = random64();
  scratch[0] = CODES[first] as number;
  return finishId(1);
}

/**
 * A URL-safe id of 22 characters that sorts by creation time, like a UUIDv7: 8 characters of
 * epoch milliseconds, then 14 random ones (84 bits). Stores index handlers by id; ids that grow
 * with time are appended to those indexes instead of landing on a random page each, which makes a
 * SQLite commit of new runs about twice as cheap (see docs/decisions/0004). The first character is
 * the time's top base-64 digit plus one, so it is `0` (never `-`) until the year 2109, and ids made
 * this way sort after the older ones that started with `-`.
 */
export function timeOrderedId(epochMs: number): string {
  let rest = Math.min(MAX_TIME_MS, Math.max(0, Math.floor(epochMs)));
  for (let i = TIME_CHARS - 1; i > 0; i--) {
    scratch[i] = CODES[rest % 64] as number;
    rest = Math.floor(rest / 64);
  }
  scratch[0] = CODES[rest + 1] as number;
  return finishId(TIME_CHARS);
}
