import { parseArgs } from "node:util";
import { WIRE_DIALECTS } from "../protocol/wire-dialect.js";
import { CliError, USAGE_EXIT_CODE } from "./cli-error.js";
import { LOG_FORMATS, LOG_LEVELS, type LogFormat, type LogLevel } from "./cli-logger.js";

/** What the command line asks for. */
export type CliCommand =
  | { command: "help" }
  | { command: "version" }
  | { command: "migrate" }
  | { command: "serve"; file: string; host: string; port: number; logLevel: LogLevel; logFormat: LogFormat };

export const DEFAULT_HOST = "0.0.0.0";
export const DEFAULT_PORT = 8080;

export const USAGE = `Usage: eventloom serve <file> [--host <host>] [--port <port>] [--log-level <level>] [--log-format <format>]
       eventloom migrate

Loads <file> (TypeScript or JavaScript, no build step), finds the WorkflowServer it exports
(the default export, else the only exported instance) and serves it with its debugger.
\`migrate\` brings the schema of the store WORKFLOWS_DB names up to this release and exits.

Options:
  --host <host>  Interface to listen on. Default ${DEFAULT_HOST}.
  --port <port>  Port to listen on, 0 for any free port. Default ${DEFAULT_PORT}.
  --log-level <level>    What is logged to stderr: error, warn, info or debug. Default info.
  --log-format <format>  text (one readable line, a stack on indented lines after it) or json
                         (one JSON object a line). Default text.
  -h, --help     Show this help.
  -v, --version  Show the version.

Environment:
  WORKFLOWS_DB              SQLite file, :memory: or postgres:// URL of the default store (.workflows/workflows.db).
  WORKFLOWS_SERVER_HOST     Interface to listen on without --host.
  WORKFLOWS_SERVER_PORT     Port to listen on without --port.
  WORKFLOWS_PY_SERVER_HOST  Interface without --host or WORKFLOWS_SERVER_HOST (the seed's name).
  WORKFLOWS_PY_SERVER_PORT  Port without --port or WORKFLOWS_SERVER_PORT (the seed's name).
  WORKFLOWS_SERVER_TOKEN    Bearer token required by every route but /health and the debugger's files.
  WORKFLOWS_CORS_ORIGINS    Origins whose pages may call the API, comma-separated, or * (none).
  WORKFLOWS_ALLOWED_HOSTS   Host names accepted besides localhost and IP literals, comma-separated, or * (none).
  WORKFLOWS_WIRE            The API's dialect for requests without X-Workflows-Wire: seed or llama-agents (seed).
  WORKFLOWS_LEASE_TTL_MS    With Postgres, how long a process owns a handler without renewing its lease (10000).
  WORKFLOWS_RETENTION       Delete ended handlers this long after they ended: 7d, 12h, or
                            completed=7d,failed=30d,cancelled=1d (none: keep everything).
  WORKFLOWS_LOG_LEVEL       The log level without --log-level (info).
  WORKFLOWS_LOG_FORMAT      The log format without --log-format (text).
  OTEL_EXPORTER_OTLP_ENDPOINT  Export OpenTelemetry traces over OTLP/HTTP there (off when unset).
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT  The same for traces alone; wins over OTEL_EXPORTER_OTLP_ENDPOINT.
  OTEL_EXPORTER_OTLP_PROTOCOL  http/protobuf or http/json (http/protobuf).
  OTEL_EXPORTER_OTLP_HEADERS   Headers sent with each export: key=value,key=value (none).
  OTEL_SERVICE_NAME         The service name of the spans (eventloom).
  OTEL_RESOURCE_ATTRIBUTES  More resource attributes of the spans: key=value,key=value (none).
  OTEL_BSP_*                The span batch: OTEL_BSP_SCHEDULE_DELAY, _MAX_QUEUE_SIZE, _MAX_EXPORT_BATCH_SIZE,
                            _EXPORT_TIMEOUT (OpenTelemetry's defaults).
  OTEL_TRACES_SAMPLER       Which traces are kept, e.g. parentbased_traceidratio (parentbased_always_on);
  OTEL_TRACES_SAMPLER_ARG   its argument, e.g. 0.1 to keep a tenth of the runs' traces.
  OTEL_SDK_DISABLED         true: no export, whatever else is set.`;

const usageError = (message: string) =>
  new CliError(`${message} (see eventloom --help)`, { exitCode: USAGE_EXIT_CODE });

/**
 * Parses the arguments after `eventloom`. Host and port come from the flags, else
 * WORKFLOWS_SERVER_HOST/PORT, else the seed's WORKFLOWS_PY_SERVER_HOST/PORT, else 0.0.0.0:8080.
 * Throws a {@link CliError} (exit code 2) for a command line that does not parse.
 */
export function parseCliArgs(argv: readonly string[], env: NodeJS.ProcessEnv = {}): CliCommand {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv);
  } catch (error) {
    throw usageError((error as Error).message.split("\n")[0] ?? "invalid arguments");
  }
  const { values, positionals } = parsed;
  if (values.help) return { command: "help" };
  if (values.version) return { command: "version" };

  const [command, ...rest] = positionals;
  if (command === undefined) throw usageError("Missing command: expected `eventloom serve <file>`");
  if (command === "help") return { command: "help" };
  if (command === "migrate") {
    if (rest.length > 0) throw usageError(`Unexpected argument "${rest[0]}"`);
    return { command: "migrate" };
  }
  if (command !== "serve") throw usageError(`Unknown command "${command}"`);
  const [file, ...extra] = rest;
  if (file === undefined || file.length === 0)
    throw usageError("Missing file: expected `eventloom serve <file>`");
  if (extra.length > 0) throw usageError(`Unexpected argument "${extra[0]}"`);

  const host =
    nonEmpty(values.host, "--host") ??
    nonEmpty(env["WORKFLOWS_SERVER_HOST"]) ??
    nonEmpty(env["WORKFLOWS_PY_SERVER_HOST"]) ??
    DEFAULT_HOST;
  const port =
    portFrom(values.port, "--port") ??
    portFrom(env["WORKFLOWS_SERVER_PORT"], "WORKFLOWS_SERVER_PORT") ??
    portFrom(env["WORKFLOWS_PY_SERVER_PORT"], "WORKFLOWS_PY_SERVER_PORT") ??
    DEFAULT_PORT;
  const logLevel =
    oneOf(values["log-level"], "--log-level", LOG_LEVELS) ??
    oneOf(env["WORKFLOWS_LOG_LEVEL"], "WORKFLOWS_LOG_LEVEL", LOG_LEVELS) ??
    "info";
  const logFormat =
    oneOf(values["log-format"], "--log-format", LOG_FORMATS) ??
    oneOf(env["WORKFLOWS_LOG_FORMAT"], "WORKFLOWS_LOG_FORMAT", LOG_FORMATS) ??
    "text";
  // The server reads it; checked here so that a mistake is a usage error before the file loads.
  oneOf(env["WORKFLOWS_WIRE"], "WORKFLOWS_WIRE", WIRE_DIALECTS);
  return { command: "serve", file, host, port, logLevel, logFormat };
}

function parse(argv: readonly string[]) {
  return parseArgs({
    args: [...argv],
    allowPositionals: true,
    strict: true,
    options: {
      host: { type: "string" },
      port: { type: "string" },
      "log-level": { type: "string" },
      "log-format": { type: "string" },
      help: { type: "boolean", short: "h" },
      version: { type: "boolean", short: "v" },
    },
  });
}

// An empty environment variable counts as unset; an empty flag is a mistake worth reporting.
function nonEmpty(value: string | undefined, flag?: string): string | undefined {
  if (value === undefined) return undefined;
  const trimmed = value.trim();
  if (trimmed.length > 0) return trimmed;
  if (flag) throw usageError(`${flag} needs a value`);
  return undefined;
}

function oneOf<T extends string>(
  value: string | undefined,
  source: string,
  allowed: readonly T[],
): T | undefined {
  const text = nonEmpty(value, source.startsWith("--") ? source : undefined)?.toLowerCase();
  if (text === undefined) return undefined;
  if (!(allowed as readonly string[]).includes(text)) {
    throw usageError(`Invalid value "${text}" from ${source}: expected one of ${allowed.join(", ")}`);
  }
  return text as T;
}

function portFrom(value: string | undefined, source: string): number | undefined {
  const text = nonEmpty(value, source.startsWith("--") ? source : undefined);
  if (text === undefined) return undefined;
  const port = /^\d{1,5}$/.test(text) ? Number(text) : Number.NaN;
  if (!(port >= 0 && port <= 65535)) {
    throw usageError(`Invalid port "${text}" from ${source}: expected an integer from 0 to 65535`);
  }
  return port;
}
