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

/** A URL-safe, unguessable id of 22 characters (128 random bits). */
export function randomId(): string {
  const bytes = new Uint8Array(16);
  globalThis.crypto.getRandomValues(bytes);
  let s = "";
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}
