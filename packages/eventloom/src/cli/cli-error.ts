/**
 * A failure the CLI reports as one line on stderr, without a stack trace, and exits with `exitCode`.
 * Anything else that escapes is a bug and keeps its stack.
 */
export class CliError extends Error {
  readonly exitCode: number;

  constructor(message: string, options: { exitCode?: number; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "CliError";
    this.exitCode = options.exitCode ?? 1;
  }
}

/** Exit code for a command line that does not parse (as most Unix tools do). */
export const USAGE_EXIT_CODE = 2;

/** The first non-empty line of an error's message: what a person needs, without the noise. */
export function firstLine(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  const line = text
    .split("\n")
    .map((l) => l.trim())
    .find((l) => l.length > 0);
  return line ?? (error instanceof Error ? error.name : "unknown error");
}
