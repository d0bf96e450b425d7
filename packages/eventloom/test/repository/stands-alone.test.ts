// The repository stands alone: no tracked file names a path outside it, so a fresh clone anywhere
// builds and tests the same. The forbidden strings are built at run time from where the clone
// really is, so that this file does not match itself.
import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync, realpathSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { expect, it } from "vitest";

const here = dirname(fileURLToPath(import.meta.url));
const root = realpathSync(
  execFileSync("git", ["rev-parse", "--show-toplevel"], { cwd: here, encoding: "utf8" }).trim(),
);

/** Strings that name a path outside the repository, each with why it is one. */
function forbidden(): { text: string; why: string }[] {
  const parent = dirname(root);
  const found = [
    { text: ["", "work", ""].join("/"), why: "the developers' machine's layout" },
    { text: ["..", "shared"].join("/"), why: "the developers' folder beside the repository" },
    { text: ["", "home", ""].join("/"), why: "a user's home folder" },
    { text: ["", "root", ""].join("/"), why: "root's home folder" },
  ];
  // Every entry beside the repository (and the repository itself) by its absolute path: naming the
  // parent's entries rather than the bare parent keeps made-up paths such as /tmp/s.ts in tests legal.
  if (parent !== root) {
    for (const entry of readdirSync(parent)) {
      const path = parent === "/" ? `/${entry}` : `${parent}/${entry}`;
      if (["/", "/tmp", "/usr", "/etc", "/dev", "/proc", "/bin"].includes(parent)) {
        // A clone directly in a system folder: only the clone's own absolute path is telling.
        if (entry !== basename(root)) continue;
      }
      found.push({ text: path, why: `an absolute path beside the repository (in ${parent})` });
    }
  }
  return found;
}

/**
 * Tracked files whose relative paths are not paths from their own folder, each with why: their
 * `../` is checked from somewhere else, so a climb there says nothing about this repository.
 */
const NOT_FROM_THEIR_FOLDER: Record<string, string> = {
  "biome.json": "its restricted-import patterns are relative to each linted source file",
};

/**
 * The relative paths in `text` (the file `file`, relative to the repository's root) that climb out
 * of the repository from the file's folder: more leading `../` than the folder is deep. In Markdown,
 * fenced code blocks are skipped: they are snippets of a reader's project, where `../../` means
 * the reader's folders.
 */
function climbsOut(file: string, text: string): { line: number; path: string }[] {
  if (file in NOT_FROM_THEIR_FOLDER) return [];
  const depth = file.split("/").length - 1;
  const checked = file.endsWith(".md") ? text.replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[^\n]*$/gm, blank) : text;
  const hits: { line: number; path: string }[] = [];
  // The `../` before a path's first name: `"../.."` alone (a string, as test data) names no file.
  for (const m of checked.matchAll(/(?<![\w.])(?:\.\.\/)+[^\s"'`)\]]*/g)) {
    const ups = (/^(?:\.\.\/)+/.exec(m[0])?.[0].length ?? 0) / 3;
    if (ups > depth) hits.push({ line: checked.slice(0, m.index).split("\n").length, path: m[0] });
  }
  return hits;
}

/** A code block replaced by as many empty lines, so that line numbers after it stay right. */
const blank = (block: string) => block.replace(/[^\n]/g, "");

it("finds a relative path that climbs out of the repository, and not one that stays in it", () => {
  expect(climbsOut("docs/a.md", "see [x](../README.md) and ../../other/file.ts")).toEqual([
    { line: 1, path: "../../other/file.ts" },
  ]);
  expect(climbsOut("a/b/c.ts", 'import x from "../../x.js";\nconst y = "../../../y";')).toEqual([
    { line: 2, path: "../../../y" },
  ]);
  expect(climbsOut("docs/a.md", 'text\n```ts\nimport { s } from "../../../../s";\n```\n../../out')).toEqual([
    { line: 5, path: "../../out" },
  ]);
  expect(climbsOut("biome.json", '"../../server/**"')).toEqual([]);
});

it("no tracked file names a path outside the repository", () => {
  const files = execFileSync("git", ["ls-files", "-z"], { cwd: root, encoding: "utf8" })
    .split("\0")
    .filter((f) => f.length > 0);
  expect(files.length).toBeGreaterThan(100); // git answered with the real list
  const needles = forbidden();
  const hits: string[] = [];
  for (const file of files) {
    let text: string;
    try {
      text = readFileSync(join(root, file), "latin1");
    } catch {
      continue; // tracked but deleted in this work tree
    }
    for (const { text: needle, why } of needles) {
      let at = text.indexOf(needle);
      while (at !== -1) {
        const next = text[at + needle.length] ?? "";
        // `${parent}/abc` must not match the entry `${parent}/ab`: a path ends at a non-name character.
        if (!/[A-Za-z0-9_.-]/.test(next) || needle.endsWith("/")) {
          const line = text.slice(0, at).split("\n").length;
          hits.push(`${file}:${line}: ${needle} (${why})`);
          break;
        }
        at = text.indexOf(needle, at + 1);
      }
    }
    for (const { line, path } of climbsOut(file, text)) {
      hits.push(`${file}:${line}: ${path} (a relative path that climbs out of the repository)`);
    }
  }
  expect(hits).toEqual([]);
});
