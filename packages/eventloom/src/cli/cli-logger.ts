/** How much the CLI logs: each level includes the ones before it. */
export const LOG_LEVELS = ["error", "warn", "info", "debug"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** `text`: one readable line (a stack follows on indented lines); `json`: one JSON object a line. */
export const LOG_FORMATS = ["text", "json"] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

type Details = Record<string, unknown>;

/** The logger the CLI gives the server: the shape of the server's `ServerLogger`, plus `debug`. */
export interface CliLogger {
  error(message: string, details?: Details): void;
  warn(message: string, details?: Details): void;
  info(message: string, details?: Details): void;
  debug(message: string, details?: Details): void;
}

export interface CliLoggerOptions {
  level: LogLevel;
  format: LogFormat;
  /** Writes one record (without its newline). */
  write: (text: string) => void;
  now?: () => Date;
}

/**
 * A logger that writes each record at `level` or above to `write`, as text or JSON. An `error`
 * detail (or any Error value) is written with its name, message, code and stack.
 */
export function createCliLogger(options: CliLoggerOptions): CliLogger {
  const rank = LOG_LEVELS.indexOf(options.level);
  const now = options.now ?? (() => new Date());
  const log =
    (level: LogLevel) =>
    (message: string, details: Details = {}) => {
      if (LOG_LEVELS.indexOf(level) > rank) return;
      const fields: Details = {};
      for (const [key, value] of Object.entries(details)) fields[key] = loggable(value);
      const time = now().toISOString();
      try {
        options.write(
          options.format === "json"
            ? JSON.stringify({ time, level, msg: message, ...fields })
            : textLine(time, level, message, fields),
        );
      } catch {
        // Logging never takes the server down (a closed stderr, a value JSON cannot hold).
      }
    };
  return { error: log("error"), warn: log("warn"), info: log("info"), debug: log("debug") };
}

interface ErrorFields {
  name: string;
  message: string;
  code?: string;
  stack?: string;
  cause?: unknown;
}

function loggable(value: unknown, depth = 0): unknown {
  if (!(value instanceof Error)) return value;
  const fields: ErrorFields = { name: value.name, message: value.message };
  const code = (value as { code?: unknown }).code;
  if (typeof code === "string") fields.code = code;
  if (value.stack) fields.stack = value.stack;
  if (value.cause !== undefined && depth < 3) fields.cause = loggable(value.cause, depth + 1);
  return fields;
}

function textLine(time: string, level: LogLevel, message: string, fields: Details): string {
  let line = `${time} ${level.toUpperCase().padEnd(5)} ${message}`;
  const stacks: string[] = [];
  for (const [key, value] of Object.entries(fields)) {
    if (isErrorFields(value)) {
      line += ` ${key}=${JSON.stringify(`${value.name}: ${value.message}`)}`;
      if (value.code) line += ` ${key}_code=${value.code}`;
      if (value.stack) stacks.push(stackFrames(value.stack));
      if (isErrorFields(value.cause))
        line += ` ${key}_cause=${JSON.stringify(`${value.cause.name}: ${value.cause.message}`)}`;
    } else {
      line += ` ${key}=${typeof value === "string" && /^[^\s"=]+$/.test(value) ? value : safeJson(value)}`;
    }
  }
  return stacks.length > 0 ? `${line}\n${stacks.join("\n")}` : line;
}

const isErrorFields = (value: unknown): value is ErrorFields =>
  typeof value === "object" &&
  value !== null &&
  typeof (value as ErrorFields).name === "string" &&
  typeof (value as ErrorFields).message === "string";

/** The `at …` lines of a stack, indented (the first line repeats the message, already on the line). */
function stackFrames(stack: string): string {
  return stack
    .split("\n")
    .filter((l) => /^\s+at /.test(l))
    .map((l) => `    ${l.trim()}`)
    .join("\n");
}

function safeJson(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}
