#!/usr/bin/env node
// The `eventloom` binary. Committed as JavaScript so that npm links it at install time, before a
// workspace checkout has built dist/; it runs the compiled CLI, or says how to build it.
import { existsSync } from "node:fs";

const main = new URL("../dist/cli/main.js", import.meta.url);
if (!existsSync(main)) {
  process.stderr.write(
    "eventloom: the CLI is not built (dist/cli/main.js is missing). In the repository, run `npm run build` first.\n",
  );
  process.exit(1);
}
await import(main.href);
