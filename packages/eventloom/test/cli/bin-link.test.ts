// A fresh clone: `npm install` must link the workspace's `eventloom` binary although nothing is built
// yet (npm skips a bin whose file is missing), so the bin is a committed JavaScript file that runs
// dist/cli/main.js, and says how to build it when it is not there.
import { execFile } from "node:child_process";
import { cp, mkdir, mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import { packageDir, repoRoot } from "./cli-process.js";

const run = promisify(execFile);
const scratch: string[] = [];
afterAll(async () => {
  for (const dir of scratch) await rm(dir, { recursive: true, force: true });
});

describe("the eventloom bin in a fresh clone", () => {
  it("is a committed, executable JavaScript file named by package.json", async () => {
    const manifest = JSON.parse(await readFile(join(packageDir, "package.json"), "utf8")) as {
      bin: Record<string, string>;
    };
    expect(manifest.bin).toEqual({ eventloom: "./bin/eventloom.js" });
    const { stdout } = await run("git", ["ls-files", "-s", "packages/eventloom/bin/eventloom.js"], {
      cwd: repoRoot,
    });
    expect(stdout).toMatch(/^100755 /);
  });

  it("is linked by npm install before anything is built, and then says to build first", async () => {
    const root = await mkdtemp(join(tmpdir(), "eventloom-clone-"));
    scratch.push(root);
    const manifest = JSON.parse(await readFile(join(packageDir, "package.json"), "utf8")) as Record<
      string,
      unknown
    >;
    // The package as a clone has it, without its dependencies (no registry needed) and without dist/.
    const { name, version, type, bin, exports } = manifest;
    const pkg = join(root, "packages", "eventloom");
    await mkdir(pkg, { recursive: true });
    await writeFile(join(pkg, "package.json"), JSON.stringify({ name, version, type, bin, exports }));
    await cp(join(packageDir, "bin"), join(pkg, "bin"), { recursive: true });
    await writeFile(
      join(root, "package.json"),
      JSON.stringify({ name: "clone", private: true, workspaces: ["packages/eventloom"] }),
    );
    const env = { ...process.env };
    for (const key of Object.keys(env)) if (/^npm_/i.test(key)) delete env[key];
    await run("npm", ["install", "--offline", "--no-audit", "--no-fund", "--ignore-scripts"], {
      cwd: root,
      env,
    });

    const linked = join(root, "node_modules", ".bin", "eventloom");
    expect((await stat(linked)).isFile()).toBe(true);
    const failed = await run(linked, ["--version"], { cwd: root, env }).then(
      () => null,
      (error: { code?: number; stderr?: string }) => error,
    );
    expect(failed?.code).toBe(1);
    expect(failed?.stderr).toBe(
      "eventloom: the CLI is not built (dist/cli/main.js is missing). In the repository, run `npm run build` first.\n",
    );
  });
});
