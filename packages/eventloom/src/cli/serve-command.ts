import { basename, resolve } from "node:path";
import { CliError, firstLine } from "./cli-error.js";
import { createCliLogger, type LogFormat, type LogLevel } from "./cli-logger.js";
import { findServer, type ServableServer } from "./find-server.js";
import { loadUserModule } from "./load-module.js";

export interface ServeCommandOptions {
  file: string;
  host: string;
  port: number;
  /** Default info. */
  logLevel?: LogLevel;
  /** Default text. */
  logFormat?: LogFormat;
}

/** Where the command writes and what it listens to; `process` in production. */
export interface CliIo {
  cwd: string;
  stdout: (line: string) => void;
  stderr: (line: string) => void;
  /** Subscribes to SIGINT/SIGTERM. */
  onSignal: (signal: "SIGINT" | "SIGTERM", listener: () => void) => void;
  exit: (code: number) => void;
}

const SIGNAL_EXIT_CODES = { SIGINT: 130, SIGTERM: 143 } as const;

/**
 * `eventloom serve <file>`: loads the file, finds its WorkflowServer, serves it and prints one line
 * with the debugger's URL. The first SIGINT/SIGTERM closes the server (runs stay resumable in the
 * store) and exits 0; a second one exits at once.
 * Resolves once the server listens; throws a {@link CliError} when it cannot.
 */
export async function serveCommand(options: ServeCommandOptions, io: CliIo): Promise<ServableServer> {
  const path = resolve(io.cwd, options.file);
  const module = await loadUserModule(path, options.file);
  const { server } = findServer(module, options.file);

  let stopping = false;
  const stop = (signal: "SIGINT" | "SIGTERM") => {
    if (stopping) {
      io.exit(SIGNAL_EXIT_CODES[signal]);
      return;
    }
    stopping = true;
    io.stdout(`eventloom: ${signal} received, shutting down (send it again to exit at once)`);
    server.close().then(
      () => {
        io.stdout("eventloom: stopped");
        io.exit(0);
      },
      (error: unknown) => {
        io.stderr(`eventloom: shutdown failed: ${firstLine(error)}`);
        io.exit(1);
      },
    );
  };
  io.onSignal("SIGINT", () => stop("SIGINT"));
  io.onSignal("SIGTERM", () => stop("SIGTERM"));

  // The server's failed steps, failed commits and internal errors, on stderr (a server created with
  // its own logger keeps it).
  const cliLogger = createCliLogger({
    level: options.logLevel ?? "info",
    format: options.logFormat ?? "text",
    write: io.stderr,
  });
  let listening = false;
  const logger: typeof cliLogger = {
    ...cliLogger,
    // A failure to start is this command's own one line (below), not a log record with a stack.
    error: (message, details) => {
      if (listening || message !== "the server could not start") cliLogger.error(message, details);
    },
  };
  let url: string;
  try {
    ({ url } = await server.serve({ host: options.host, port: options.port, logger }));
  } catch (error) {
    // A signal during startup already closes the server and exits: its failure to listen is no news.
    if (stopping) return server;
    // The store may be open and runs resumed: put them back before giving up.
    await server.close().catch(() => undefined);
    throw new CliError(describeServeError(error, options), { cause: error });
  }
  listening = true;
  const base = url.endsWith("/") ? url : `${url}/`;
  io.stdout(
    `eventloom: serving ${describeWorkflows(server, basename(path))} at ${base} — debugger at ${base}`,
  );
  return server;
}

function describeWorkflows(server: ServableServer, file: string): string {
  const names = server.workflowNames;
  if (!names) return file;
  if (names.length === 0) return "no workflows";
  return `${names.length} workflow${names.length === 1 ? "" : "s"} (${names.join(", ")})`;
}

/** One line for why the server could not start listening. */
export function describeServeError(error: unknown, options: { host: string; port: number }): string {
  const code = (error as { code?: unknown } | null)?.code;
  const where = `${options.host}:${options.port}`;
  switch (code) {
    case "EADDRINUSE":
      return `port ${options.port} is already in use on ${options.host} (choose another with --port)`;
    case "EACCES":
      return `no permission to listen on ${where} (ports below 1024 need privileges)`;
    case "EADDRNOTAVAIL":
      return `cannot listen on ${where}: the address is not available on this machine`;
    case "ENOTFOUND":
    case "EAI_AGAIN":
      return `cannot listen on ${where}: unknown host "${options.host}"`;
    case "STORE_UNAVAILABLE": {
      const cause = (error as Error).cause;
      // Another process has the SQLite file: its line names the file and that process already.
      if ((cause as { code?: unknown } | undefined)?.code === "STORE_IN_USE") return firstLine(cause);
      return `the store could not be opened: ${firstLine(cause ?? error)}`;
    }
    default:
      return `cannot serve on ${where}: ${firstLine(error)}`;
  }
}
