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
const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/**
 * A URL-safe, unguessable id of 22 characters (132 random bits). Random bytes are drawn from the
 * platform's CSPRNG 4 KiB at a time: one call per id costs more than the rest of a trivial run.
 */
export function randomId(): string {
  if (poolOffset + 22 > pool.length) {
    pool = new Uint8Array(22 * POOL_IDS);
    globalThis.crypto.getRandomValues(pool);
    poolOffset = 0;
  }
  let id = "";
  for (let i = 0; i < 22; i++) id += ALPHABET[(pool[poolOffset + i] as number) & 63];
  poolOffset += 22;
  return id;
}
