// The CLI's parts, for tests and for embedding; the binary is main.ts.
export { type CliCommand, DEFAULT_HOST, DEFAULT_PORT, parseCliArgs, USAGE } from "./args.js";
export { CliError, firstLine, USAGE_EXIT_CODE } from "./cli-error.js";
export {
  type FoundServer,
  findServer,
  isBrandedServer,
  SERVER_BRAND,
  type ServableServer,
} from "./find-server.js";
export { describeLoadError, loadUserModule } from "./load-module.js";
export { type CliIo, describeServeError, type ServeCommandOptions, serveCommand } from "./serve-command.js";
export { packageVersion } from "./version.js";
