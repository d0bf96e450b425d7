import { readdirSync, readFileSync } from "node:fs";
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
 * Names the README uses that look like environment variables but are not the CLI's: each is read by
 * the project's own tests, never by `eventloom serve`, so `--help` does not list it.
 */
const TEST_ONLY_ENVIRONMENT: Record<string, string> = {
  WORKFLOWS_TEST_POSTGRES: "the Postgres the test suite uses (test/support/postgres-url.ts)",
  CHROMIUM_PATH: "the browser the test suite drives (test/support/provide-chromium.ts)",
  IDEMPOTENCY_RUNS: "how many sequences the reliability suite's idempotency property runs",
};

/** An upper-case name with underscores, `FAMILY_*` included: an environment variable or an error code. */
const UPPER_NAME = /(?<![A-Za-z0-9_])[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+(?:_\*)?(?![A-Za-z0-9_])/g;

/**
 * Every name in the README that looks like an environment variable: any upper-case name with
 * underscores but the error codes (the upper-case string literals of the sources that are not read
 * from `env`); names of the WORKFLOWS_ and OTEL_ families always count. `NAME`/`_SUFFIX` names
 * NAME_SUFFIX too (`OTEL_TRACES_SAMPLER`/`_ARG`).
 */
function readmeEnvironment(): string[] {
  const readme = readFileSync(join(repoRoot, "README.md"), "utf8");
  const codes = new Set<string>();
  const fromEnv = new Set<string>();
  for (const file of sourceFiles(join(repoRoot, "packages/eventloom/src"))) {
    const text = readFileSync(file, "utf8");
    for (const [, name = ""] of text.matchAll(/"([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+)"/g)) codes.add(name);
    for (const [, name = ""] of text.matchAll(/env(?:\["|\.)([A-Z][A-Z0-9_]+)/g)) fromEnv.add(name);
  }
  const names = new Set<string>();
  const looksLikeEnvironment = (name: string) =>
    /^(WORKFLOWS|OTEL)_/.test(name) || fromEnv.has(name) || !codes.has(name);
  for (const [name] of readme.matchAll(UPPER_NAME)) if (looksLikeEnvironment(name)) names.add(name);
  for (const [, name = "", suffix] of readme.matchAll(/`([A-Z][A-Z0-9_]+)`\/`(_[A-Z0-9]+)`/g)) {
    names.add(name.replace(/_[A-Z0-9]+$/, suffix as string));
  }
  return [...names].sort();
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && /\.tsx?$/.test(e.name))
    .map((e) => join(e.parentPath, e.name));
}

/** The variables `--help` lists: the first name of each line of its Environment section. */
function helpEnvironment(help: string): string[] {
  const section = help.slice(help.indexOf("\nEnvironment:\n"));
  return [...section.matchAll(/^ {2}([A-Z][A-Z0-9_]*\*?)/gm)].map((m) => m[1] as string).sort();
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

  it("lists in --help every environment variable the README names, and no other", async () => {
    const names = readmeEnvironment();
    // The scan reached the Configuration table, the abbreviated names and the OpenTelemetry section.
    expect(names).toEqual(
      expect.arrayContaining([
        "WORKFLOWS_DB",
        "WORKFLOWS_PY_SERVER_PORT",
        "OTEL_BSP_*",
        "OTEL_TRACES_SAMPLER_ARG",
      ]),
    );
    // No error code was taken for a variable.
    expect(names).not.toContain("STORE_UNAVAILABLE");
    for (const name of Object.keys(TEST_ONLY_ENVIRONMENT)) expect(names, name).toContain(name);
    const expected = names.filter((name) => !(name in TEST_ONLY_ENVIRONMENT));
    const { stdout } = await helpOutput();
    expect(helpEnvironment(stdout)).toEqual(expected);
  });
});
