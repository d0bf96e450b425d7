#!/usr/bin/env node
// The `eventloom` binary. Everything that can go wrong in a user's hands ends as one line on stderr.
import { parseCliArgs, USAGE } from "./args.js";
import { CliError } from "./cli-error.js";
import { migrateCommand } from "./migrate-command.js";
import { serveCommand } from "./serve-command.js";
import { packageVersion } from "./version.js";

async function main(argv: readonly string[]): Promise<void> {
  const command = parseCliArgs(argv, process.env);
  switch (command.command) {
    case "help":
      process.stdout.write(`${USAGE}\n`);
      return;
    case "version":
      process.stdout.write(`${packageVersion()}\n`);
      return;
    case "migrate":
      await migrateCommand(process.env, (line) => process.stdout.write(`${line}\n`));
      return;
    case "serve":
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

try {
  await main(process.argv.slice(2));
} catch (error) {
  if (!(error instanceof CliError)) throw error;
  process.stderr.write(`eventloom: ${error.message}\n`);
  process.exit(error.exitCode);
}
