// docs/EMBEDDING.md's files, as the embedding tests run them: each ```ts block that names its file on
// its first line is written to that path under a scratch folder, unchanged.
import { mkdir, mkdtemp, readFile, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { repoRoot } from "../cli/cli-process.js";
import { fileBlock, fileBlockNames } from "../integration/readme-calls.js";

export const GUIDE = join(repoRoot, "docs", "EMBEDDING.md");

/** The guide's files for node's frameworks (frameworks.test.ts runs them) and for Next.js (nextjs.test.ts). */
export const NODE_FILES = [
  "workflows-server.ts",
  "hono.ts",
  "express.ts",
  "express-json-first.ts",
  "fastify.ts",
];
export const NEXT_FILES = [
  "workflows-server.ts",
  "app/api/workflows/[[...path]]/route.ts",
  "instrumentation.ts",
  "next.config.ts",
];

export const readGuide = (): Promise<string> => readFile(GUIDE, "utf8");

/** The guide's file names, as its blocks' first lines give them. */
export async function guideFileNames(): Promise<string[]> {
  return fileBlockNames(await readGuide());
}

/**
 * Writes the guide's blocks for `names` under `dir` (a fresh folder under the repository's
 * test-results/ when none is given, where the repository's node_modules resolve their imports).
 */
export async function writeGuideFiles(names: string[], dir?: string): Promise<string> {
  const guide = await readGuide();
  const root = dir ?? (await scratchInRepo());
  for (const name of names) {
    const path = join(root, name);
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, fileBlock(guide, name));
  }
  return root;
}

async function scratchInRepo(): Promise<string> {
  const parent = join(repoRoot, "test-results", "embedding");
  await mkdir(parent, { recursive: true });
  return mkdtemp(join(parent, "guide-"));
}
