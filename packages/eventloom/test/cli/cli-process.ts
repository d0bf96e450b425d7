// Runs the CLI as a real child process: `node --import tsx src/cli/main.ts ...`, on the TypeScript
// sources, with no build. A user's file imports `eventloom` and `eventloom/server` by name; here
// TSX_TSCONFIG_PATH points tsx at the package's tsconfig, whose `paths` map those names to the sources
// (the same copy of the modules the CLI runs). Fixtures live in ./fixtures.
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { createRequire } from "node:module";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const here = fileURLToPath(new URL(".", import.meta.url));
export const packageDir = join(here, "..", "..");
export const repoRoot = join(packageDir, "..", "..");
export const cliMain = join(packageDir, "src", "cli", "main.ts");
export const fixture = (name: string) => join(here, "fixtures", name);
const tsxLoader = createRequire(import.meta.url).resolve("tsx");

/** Startup of a child on a loaded machine takes seconds: generous limits, still bounded. */
export const STARTUP_MS = 60_000;

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface CliProcess {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  exited: Promise<Exit>;
  /** Resolves with the first stdout line matching `pattern`; rejects if the process exits first. */
  waitForLine(pattern: RegExp, timeoutMs?: number): Promise<RegExpExecArray>;
  /** Waits for the startup line and returns the served URL (with a trailing slash). */
  ready(): Promise<string>;
  /** Ends the process if it still runs (SIGKILL) and waits for it. */
  kill(): Promise<Exit>;
}

/** Environment for a child: ours without any WORKFLOWS_* setting, plus `env`. */
export function childEnv(env: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const base: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (!key.startsWith("WORKFLOWS_") && !key.startsWith("VITEST") && key !== "NODE_OPTIONS")
      base[key] = value;
  }
  return { ...base, TSX_TSCONFIG_PATH: join(packageDir, "tsconfig.json"), ...env };
}

/** Starts `eventloom <args>` from the sources. */
export function startCli(
  args: readonly string[],
  options: { env?: Record<string, string | undefined>; cwd?: string } = {},
): CliProcess {
  const child = spawn(process.execPath, ["--import", tsxLoader, cliMain, ...args], {
    cwd: options.cwd ?? repoRoot,
    env: childEnv(options.env),
    stdio: ["ignore", "pipe", "pipe"],
  });
  return watch(child);
}

/** Wraps any child process (the pack test runs the installed binary) with the same helpers. */
export function watch(child: ChildProcess): CliProcess {
  let out = "";
  let err = "";
  const listeners = new Set<() => void>();
  child.stdout?.setEncoding("utf8").on("data", (chunk: string) => {
    out += chunk;
    for (const l of listeners) l();
  });
  child.stderr?.setEncoding("utf8").on("data", (chunk: string) => {
    err += chunk;
  });
  const exited = new Promise<Exit>((resolve) => {
    child.once("exit", (code, signal) => {
      // Let the pipes drain so that the last line is in `out`/`err`.
      setImmediate(() => {
        resolve({ code, signal });
        for (const l of listeners) l();
      });
    });
  });
  let ended = false;
  void exited.then(() => {
    ended = true;
  });

  const waitForLine = (pattern: RegExp, timeoutMs = STARTUP_MS) =>
    new Promise<RegExpExecArray>((resolve, reject) => {
      const check = () => {
        for (const line of out.split("\n")) {
          const match = pattern.exec(line);
          if (match) {
            finish();
            resolve(match);
            return;
          }
        }
        if (ended) {
          finish();
          reject(new Error(`the CLI exited before printing ${pattern}; stdout: ${out} stderr: ${err}`));
        }
      };
      const timer = setTimeout(() => {
        finish();
        reject(
          new Error(`no line matching ${pattern} within ${timeoutMs} ms; stdout: ${out} stderr: ${err}`),
        );
      }, timeoutMs);
      const finish = () => {
        clearTimeout(timer);
        listeners.delete(check);
      };
      listeners.add(check);
      check();
    });

  return {
    child,
    stdout: () => out,
    stderr: () => err,
    exited,
    waitForLine,
    ready: async () => {
      const match = await waitForLine(
        /^eventloom: serving .* at (http:\/\/\S+\/) — debugger at (http:\/\/\S+\/)$/,
      );
      return match[1] as string;
    },
    kill: async () => {
      if (!ended) child.kill("SIGKILL");
      return exited;
    },
  };
}

/** A port that was free a moment ago (for tests of which port the CLI picked). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** A port held by a listening socket until `release()`. */
export async function busyPort(): Promise<{ port: number; release: () => Promise<void> }> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  return { port, release: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

/** A temporary directory, removed by `cleanup()`. */
export async function tempDir(
  prefix = "eventloom-cli-",
): Promise<{ path: string; cleanup: () => Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), prefix));
  return { path, cleanup: () => rm(path, { recursive: true, force: true }) };
}
