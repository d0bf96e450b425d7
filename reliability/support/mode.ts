/** `quick` (default: part of `npm test`, a few seconds per file) or `long` (by hand: `npm run reliability`). */
export type ReliabilityMode = "quick" | "long";

export const MODE: ReliabilityMode = process.env["RELIABILITY_MODE"] === "long" ? "long" : "quick";

/** The quick or the long size of a loop. */
export const sized = <T>(quick: T, long: T): T => (MODE === "long" ? long : quick);

/** The seed of every random choice of a file: `RELIABILITY_SEED`, else the clock (printed with the figures). */
export const SEED: number = Number(process.env["RELIABILITY_SEED"] ?? "") || Date.now() % 2_147_483_647;

/** A small seeded generator (mulberry32): the same seed draws the same torture. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}
