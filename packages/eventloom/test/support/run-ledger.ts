// The ledger of the run-limit tests: each step execution appends `start` and `end` lines (with the
// run's tag and the process id) to a file, synchronously, before and after its work. A run's place is
// freed only after its step ended and its end is durable, so replaying the lines in file order gives,
// at every point, at least the runs executing then.
import { appendFileSync, readFileSync } from "node:fs";

export interface LedgerLine {
  at: "start" | "end";
  tag: string;
  key: string;
  pid: number;
}

export function writeLedger(path: string, line: LedgerLine): void {
  appendFileSync(path, `${JSON.stringify(line)}\n`);
}

export function readLedger(path: string): LedgerLine[] {
  let text = "";
  try {
    text = readFileSync(path, "utf8");
  } catch {
    return [];
  }
  return text
    .split("\n")
    .filter((l) => l.trim() !== "")
    .map((l) => JSON.parse(l) as LedgerLine);
}

/**
 * Replays the lines: the most executions of each key at once, and the tags in the order their steps
 * started. Lines of a process killed mid-step have no end: replay the lines written after the kill.
 */
export function replay(lines: readonly LedgerLine[]): { most: Map<string, number>; starts: string[] } {
  const now = new Map<string, number>();
  const most = new Map<string, number>();
  const starts: string[] = [];
  for (const l of lines) {
    const n = (now.get(l.key) ?? 0) + (l.at === "start" ? 1 : -1);
    now.set(l.key, n);
    most.set(l.key, Math.max(most.get(l.key) ?? 0, n));
    if (l.at === "start") starts.push(l.tag);
  }
  return { most, starts };
}
