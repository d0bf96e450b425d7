// Starts the torture server through the real CLI, as a child process on the TypeScript sources.
import { spawn } from "node:child_process";
import { createRequire } from "node:module";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { type CliProcess, childEnv, cliMain, watch } from "../../packages/eventloom/test/cli/cli-process.js";

const here = fileURLToPath(new URL(".", import.meta.url));
export const reliabilityDir = join(here, "..");
export const tortureServer = join(reliabilityDir, "fixtures", "torture-server.ts");
export const faultServer = join(reliabilityDir, "fixtures", "fault-server.ts");
const tsxLoader = createRequire(import.meta.url).resolve("tsx");

export interface ServeOptions {
  port: number;
  /** WORKFLOWS_DB and any other setting. */
  env: Record<string, string>;
  /** Flags for node itself (e.g. --expose-gc). */
  nodeArgs?: string[];
  file?: string;
}

/** `eventloom serve <file> --host 127.0.0.1 --port <port>`, started: it may serve, or end first. */
export function spawnServe(options: ServeOptions): CliProcess {
  const args = [
    "serve",
    options.file ?? tortureServer,
    "--host",
    "127.0.0.1",
    "--port",
    String(options.port),
  ];
  const child = spawn(
    process.execPath,
    [...(options.nodeArgs ?? []), "--import", tsxLoader, cliMain, ...args],
    {
      cwd: reliabilityDir,
      env: childEnv({ TSX_TSCONFIG_PATH: join(reliabilityDir, "tsconfig.json"), ...options.env }),
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  return watch(child);
}

/** `eventloom serve <torture-server> --host 127.0.0.1 --port <port>`; resolves once it serves. */
export async function serveTorture(options: ServeOptions): Promise<{ cli: CliProcess; url: string }> {
  const cli = spawnServe(options);
  try {
    const url = await cli.ready();
    return { cli, url: url.replace(/\/$/, "") };
  } catch (error) {
    await cli.kill();
    throw error;
  }
}
