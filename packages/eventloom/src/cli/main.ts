#!/usr/bin/env node
// The `eventloom` binary. Everything that can go wrong in a user's hands ends as one line on stderr.
import { ZOD_VERSION_ERROR } from "../core/zod-version.js";
import { parseCliArgs, USAGE } from "./args.js";
import { CliError } from "./cli-error.js";
import { packageVersion } from "./version.js";

// Only the modules above load before `main` runs: the commands load the package's modules (and zod)
// inside its try, so that a zod 3 install ends as one line too.

async function main(argv: readonly string[]): Promise<void> {
  const command = parseCliArgs(argv, process.env);
  switch (command.command) {
    case "help":
      process.stdout.write(`${USAGE}\n`);
      return;
    case "version":
      process.stdout.write(`${packageVersion()}\n`);
      return;
    case "migrate": {
      const { migrateCommand } = await import("./migrate-command.js");
      await migrateCommand(process.env, (line) => process.stdout.write(`${line}\n`));
      return;
    }
    case "serve": {
      const { serveCommand } = await import("./serve-command.js");
      await serveCommand(command, {
        cwd: process.cwd(),
        stdout: (line) => process.stdout.write(`${line}\n`),
        stderr: (line) => process.stderr.write(`${line}\n`),
        onSignal: (signal, listener) => process.on(signal, listener),
        exit: (code) => process.exit(code),
      });
      return;
    }
  }
}

try {
  await main(process.argv.slice(2));
} catch (error) {
  if (error instanceof CliError) {
    process.stderr.write(`eventloom: ${error.message}\n`);
    process.exit(error.exitCode);
  }
  if (!(error instanceof Error && error.name === ZOD_VERSION_ERROR)) throw error;
  process.stderr.write(`eventloom: ${error.message}\n`);
  process.exit(1);
}
