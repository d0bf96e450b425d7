// Commands the global setup runs to bring system packages and services: Debian's apt-get and
// PostgreSQL's cluster tools, as root. Output is kept and shown only when a command fails.
import { execFile } from "node:child_process";
import { accessSync, constants } from "node:fs";

/** Runs `command`; resolves with its stdout, rejects with its last lines of output. */
export function run(command: string, args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      command,
      [...args],
      { env: { ...process.env, ...env }, maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) => {
        if (!error) return resolve(stdout);
        const tail = `${stdout}\n${stderr}`.trim().split("\n").slice(-3).join(" | ");
        reject(new Error(`${command} ${args.join(" ")} failed: ${tail || error.message}`));
      },
    );
  });
}

export function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** A program on the PATH. */
export function onPath(name: string): boolean {
  return (process.env["PATH"] ?? "").split(":").some((dir) => dir && isExecutable(`${dir}/${name}`));
}

/** Root on a Debian-like system: apt-get can install what is missing. */
export const canApt = (): boolean => process.getuid?.() === 0 && onPath("apt-get");

/** Installs Debian packages (after `apt-get update`), waiting for another apt run's lock if need be. */
export async function aptInstall(packages: readonly string[]): Promise<void> {
  const lock = ["-o", "DPkg::Lock::Timeout=600"];
  const env = { DEBIAN_FRONTEND: "noninteractive" };
  await run("apt-get", [...lock, "update", "-qq"], env);
  await run("apt-get", [...lock, "install", "-y", "-qq", ...packages], env);
}
