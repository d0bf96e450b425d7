// Vitest's global setup: brings what `npm test` needs beyond npm, once per run, so that the command
// passes on a fresh machine: Debian's Chromium and a PostgreSQL at 127.0.0.1:5432 (installed with
// apt-get as root when missing, the cluster started when stopped). What cannot be had here is said
// in one line, and the tests that need it fail with that line; the others still run.
import type { TestProject } from "vitest/node";
import { chromiumPackages, chromiumProblem } from "./provide-chromium.js";
import { postgresPackages, providePostgres } from "./provide-postgres.js";
import type {} from "./provided.js"; // the provided values' types
import { aptInstall } from "./system.js";

const say = (line: string) => process.stderr.write(`test setup: ${line}\n`);

export default async function setup(project: TestProject): Promise<void> {
  const chromium = chromiumPackages() ?? [];
  const postgres = (await postgresPackages()) ?? [];
  const packages = [...chromium, ...postgres];
  let installError: string | undefined;
  if (packages.length > 0) {
    say(`installing Debian's ${packages.join(" and ")} with apt-get (once per machine, a few minutes)`);
    const started = Date.now();
    try {
      await aptInstall(packages);
      say(`installed in ${Math.round((Date.now() - started) / 1000)} s`);
    } catch (error) {
      installError = (error as Error).message;
    }
  }
  const chromiumLine = chromiumProblem(chromium.length > 0 ? installError : undefined) ?? "";
  const postgresLine = (await providePostgres(postgres.length > 0 && !installError, installError)) ?? "";
  for (const line of [chromiumLine, postgresLine]) if (line) say(line);
  project.provide("chromiumProblem", chromiumLine);
  project.provide("postgresProblem", postgresLine);
}
