// The reliability suite's runner: `npx tsx reliability/run.ts [--long]` runs every reliability test
// (long mode with --long) and prints the figures each one measured, as Markdown for docs/RELIABILITY.md.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const long = process.argv.includes("--long");
const dir = mkdtempSync(join(tmpdir(), "reliability-figures-"));
const figures = join(dir, "figures.jsonl");
const started = Date.now();
const vitest = spawnSync(
  "npx",
  ["vitest", "run", "reliability", ...process.argv.slice(2).filter((a) => a !== "--long")],
  {
    cwd: root,
    stdio: "inherit",
    env: {
      ...process.env,
      RELIABILITY_MODE: long ? "long" : "quick",
      RELIABILITY_FIGURES: figures,
    },
  },
);
const minutes = ((Date.now() - started) / 60_000).toFixed(1);

let lines: Record<string, unknown>[] = [];
try {
  lines = readFileSync(figures, "utf8")
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, unknown>);
} catch {
  // no test got as far as its figures
}
rmSync(dir, { recursive: true, force: true });

const out: string[] = [];
out.push(
  `### ${long ? "Long" : "Quick"} mode, ${new Date().toISOString().slice(0, 16).replace("T", " ")} UTC, ${minutes} min, ` +
    `Node ${process.version}, ${vitest.status === 0 ? "all green" : `FAILED (exit ${vitest.status})`}`,
  "",
);
for (const { section, mode: _mode, ...rest } of lines) {
  out.push(`**${String(section)}**`, "", "| figure | value |", "|---|---|");
  for (const [key, value] of Object.entries(rest))
    out.push(`| ${key.replaceAll("_", " ")} | ${String(value)} |`);
  out.push("");
}
console.log(`\n${out.join("\n")}`);
process.exit(vitest.status ?? 1);
