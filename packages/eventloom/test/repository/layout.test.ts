// The source's layout rules (docs/ARCHITECTURE.md): no file of src/ over 400 lines, and no import
// cycle between its files, type-only imports included (a cycle of types still ties two modules
// together for whoever reads them).
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { expect, it } from "vitest";

const src = resolve(dirname(fileURLToPath(import.meta.url)), "../../src");
const MAX_LINES = 400;

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return /\.tsx?$/.test(entry.name) && !entry.name.endsWith(".d.ts") ? [path] : [];
  });
}

const files = sourceFiles(src);
const name = (path: string) => relative(src, path);

/** The files of src/ a file imports or re-exports from, by relative specifier (`./x.js` is `./x.ts`). */
function importsOf(path: string): string[] {
  const text = readFileSync(path, "utf8");
  const found: string[] = [];
  for (const m of text.matchAll(/(?:^|\n)\s*(?:import|export)\b[^;]*?\bfrom\s+"(\.{1,2}\/[^"]+)"/g)) {
    const spec = m[1] as string;
    const base = resolve(dirname(path), spec).replace(/\.js$/, "");
    const target = [`${base}.ts`, `${base}.tsx`, join(base, "index.ts")].find((f) => files.includes(f));
    if (target) found.push(target);
  }
  return found;
}

/** The first cycle found among `graph`'s files, as the list of files around it; null when none. */
function findCycle(graph: Map<string, string[]>): string[] | null {
  const state = new Map<string, "open" | "done">();
  const stack: string[] = [];
  const visit = (file: string): string[] | null => {
    state.set(file, "open");
    stack.push(file);
    for (const next of graph.get(file) ?? []) {
      if (state.get(next) === "open") return [...stack.slice(stack.indexOf(next)), next];
      if (state.get(next) === undefined) {
        const cycle = visit(next);
        if (cycle) return cycle;
      }
    }
    stack.pop();
    state.set(file, "done");
    return null;
  };
  for (const file of graph.keys()) {
    if (state.get(file) !== undefined) continue;
    const cycle = visit(file);
    if (cycle) return cycle;
  }
  return null;
}

it("finds the source files", () => {
  expect(files.length).toBeGreaterThan(100);
  expect(files.map(name)).toContain(join("server", "workflow-server.ts"));
});

it(`keeps every file of src/ at ${MAX_LINES} lines or fewer`, () => {
  const long = files
    .map((file) => ({ file: name(file), lines: readFileSync(file, "utf8").split("\n").length - 1 }))
    .filter((f) => f.lines > MAX_LINES);
  expect(long).toEqual([]);
});

it("has no import cycle between the files of src/", () => {
  const graph = new Map(files.map((file) => [file, importsOf(file)]));
  expect(graph.get(join(src, "server", "workflow-server.ts"))?.length).toBeGreaterThan(3);
  expect(findCycle(graph)?.map(name) ?? null).toBeNull();
});

it("names a cycle when there is one (the check can fail)", () => {
  const graph = new Map([
    ["a", ["b"]],
    ["b", ["c"]],
    ["c", ["a"]],
    ["d", ["a"]],
  ]);
  expect(findCycle(graph)).toEqual(["a", "b", "c", "a"]);
  expect(
    findCycle(
      new Map([
        ["a", ["b"]],
        ["b", []],
      ]),
    ),
  ).toBeNull();
});
