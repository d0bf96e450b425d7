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
  }
  expect(hits).toEqual([]);
});
