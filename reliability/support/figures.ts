import { appendFileSync } from "node:fs";
import { MODE } from "./mode.js";

export type Figures = Record<string, number | string | boolean>;

/**
 * Publishes a test's measured figures: one JSON line appended to `RELIABILITY_FIGURES` (the runner
 * collects them for docs/RELIABILITY.md) and one line on the console.
 */
export function reportFigures(section: string, figures: Figures): void {
  const line = JSON.stringify({ section, mode: MODE, ...figures });
  const file = process.env["RELIABILITY_FIGURES"];
  if (file) appendFileSync(file, `${line}\n`);
  console.log(`reliability ${line}`);
}

/** The p-th percentile (0..100) of `values`, by nearest rank; NaN for none. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank] as number;
}

export const round = (value: number, digits = 1): number => Number(value.toFixed(digits));
