import { readFileSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { busyPort, fixture, repoRoot, startCli, tempDir } from "./cli-process.js";

let dir: { path: string; cleanup: () => Promise<void> };
const inDir = (name: string) => join(dir.path, name);

beforeAll(async () => {
  dir = await tempDir();
  // Broken files are written at test time: in the repository they would break the typecheck and lint.
  await writeFile(inDir("package.json"), JSON.stringify({ type: "module" }));
  await writeFile(inDir("syntax.ts"), "export const x: number = ;\n");
  await writeFile(
    inDir("bad-import.ts"),
    'import "no-such-package-for-workflows-tests";\nexport default 1;\n',
  );
  await writeFile(inDir("missing-relative.ts"), 'import "./not-there.js";\n');
  await writeFile(inDir("throws.ts"), 'throw new RangeError("the config is wrong\\nsecond line");\n');
});
afterAll(() => dir.cleanup());

/** Runs the CLI to its end; returns its exit code and output. */
async function fails(args: string[], env: Record<string, string> = {}) {
  const cli = startCli(args, { env: { WORKFLOWS_DB: join(dir.path, "w.db"), ...env } });
  const exit = await cli.exited;
  return { exit, stdout: cli.stdout(), stderr: cli.stderr() };
}

/** `eventloom --help`, run once for the tests that read it. */
let help: Promise<Awaited<ReturnType<typeof fails>>> | undefined;
const helpOutput = () => {
  help ??= fails(["--help"]);
  return help;
};

/**
 * The environment variables named in the README's Configuration table. A cell may abbreviate a
 * second name by its last part: `WORKFLOWS_SERVER_HOST`/`_PORT` names WORKFLOWS_SERVER_PORT too.
 */
function readmeEnvironment(): string[] {
  const readme = readFileSync(join(repoRoot, "README.md"), "utf8");
  const section = readme.split(/^## /m).find((s) => s.startsWith("Configuration\n")) ?? "";
  const names = new Set<string>();
  for (const row of section.split("\n").filter((line) => line.startsWith("|"))) {
    let last = "";
    for (const [, code = ""] of row.matchAll(/`([^`]+)`/g)) {
      if (/^WORKFLOWS_[A-Z0-9_]+$/.test(code)) {
        last = code;
        names.add(code);
      } else if (/^_[A-Z0-9]+$/.test(code) && last) names.add(last.replace(/_[A-Z0-9]+$/, code));
    }
  }
  return [...names];
}

/** The one line on stderr, checked to be a single `eventloom: ` line without a stack trace. */
function oneLine(stderr: string): string {
  const lines = stderr.split("\n").filter((l) => l.length > 0);
  expect(lines, stderr).toHaveLength(1);
  expect(lines[0]).toMatch(/^eventloom: /);
  expect(stderr).not.toMatch(/\n\s+at /);
  return lines[0] as string;
}

// Each test runs processes of its own that end by themselves: they run side by side.
describe.concurrent("eventloom serve: errors", { timeout: 120_000 }, () => {
  it("says the file is missing, exit 1", async () => {
    const r = await fails(["serve", "does-not-exist.ts"]);
    expect(r.exit.code).toBe(1);
    expect(oneLine(r.stderr)).toBe("eventloom: does-not-exist.ts: file not found");
  });

  it("says where the syntax error is", async () => {
    const r = await fails(["serve", inDir("syntax.ts")]);
    expect(r.exit.code).toBe(1);
    expect(oneLine(r.stderr)).toMatch(
      /^eventloom: .*syntax\.ts does not load: syntax error at .*syntax\.ts:1:25: /,
    );
  });

  it("says which import failed", async () => {
    const r = await fails(["serve", inDir("bad-import.ts")]);
    expect(r.exit.code).toBe(1);
    expect(oneLine(r.stderr)).toMatch(
      /does not load: an import failed: Cannot find package 'no-such-package-for-workflows-tests'/,
    );
    const relative = await fails(["serve", inDir("missing-relative.ts")]);
    expect(oneLine(relative.stderr)).toMatch(
      /does not load: an import failed: Cannot find module .*not-there\.js/,
    );
  });

  it("reports what the file threw while loading, first line only", async () => {
    const r = await fails(["serve", inDir("throws.ts")]);
    expect(r.exit.code).toBe(1);
    expect(oneLine(r.stderr)).toMatch(/throws\.ts does not load: it threw RangeError: the config is wrong$/);
  });

  it("says the file exports no server, listing its exports", async () => {
    const r = await fails(["serve", fixture("no-server.ts")]);
    expect(r.exit.code).toBe(1);
    expect(oneLine(r.stderr)).toMatch(
      /no-server\.ts exports no WorkflowServer \(its exports: default, echo\)/,
    );
  });

  it("names the exports when there are several servers", async () => {
    const r = await fails(["serve", fixture("two-servers.ts")]);
    expect(r.exit.code).toBe(1);
    expect(oneLine(r.stderr)).toMatch(
      /exports 2 WorkflowServers \(adminApi, publicApi\): export the one to serve as default$/,
    );
  });

  it("says the port is in use", async () => {
    const busy = await busyPort();
    try {
      const r = await fails([
        "serve",
        fixture("named-server.ts"),
        "--host",
        "127.0.0.1",
        "--port",
        String(busy.port),
      ]);
      expect(r.exit.code).toBe(1);
      expect(oneLine(r.stderr)).toBe(
        `eventloom: port ${busy.port} is already in use on 127.0.0.1 (choose another with --port)`,
      );
      expect(r.stdout).toBe("");
    } finally {
      await busy.release();
    }
  });

  it("rejects a bad command line with exit 2", async () => {
    const r = await fails(["serve", fixture("named-server.ts"), "--port", "eighty"]);
    expect(r.exit.code).toBe(2);
    expect(oneLine(r.stderr)).toBe(
      'eventloom: Invalid port "eighty" from --port: expected an integer from 0 to 65535 (see eventloom --help)',
    );
  });

  it("prints usage for --help and the version for --version", async () => {
    const help = await helpOutput();
    expect(help.exit.code).toBe(0);
    expect(help.stdout).toMatch(/^Usage: eventloom serve <file>/);
    const version = await fails(["--version"]);
    expect(version.stdout).toMatch(/^\d+\.\d+\.\d+\n$/);
  });

  it("lists in --help every environment variable of the README's Configuration table", async () => {
    const names = readmeEnvironment();
    expect(names).toContain("WORKFLOWS_DB"); // the table was found and read
    expect(names).toContain("WORKFLOWS_PY_SERVER_PORT"); // and its abbreviated names expanded
    const { stdout } = await helpOutput();
    const missing = names.filter((name) => !new RegExp(`(^|[^A-Z_])${name}([^A-Z0-9_]|$)`, "m").test(stdout));
    expect(missing, stdout).toEqual([]);
  });
});
