/** Where the server reports what a client never sees (unexpected errors, failed commits). */
export interface ServerLogger {
  info(message: string, details?: Record<string, unknown>): void;
  warn(message: string, details?: Record<string, unknown>): void;
  error(message: string, details?: Record<string, unknown>): void;
}

/** The default: library code never logs to the console. */
export const silentLogger: ServerLogger = {
  info: () => {},
  warn: () => {},
  error: () => {},
};
