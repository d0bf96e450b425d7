import { checkRetention, type RetentionOptions, retains, retentionFromEnv } from "./retention/index.js";

/** One MiB: the default `maxEventBytes`. */
export const DEFAULT_MAX_EVENT_BYTES = 1024 * 1024;

/**
 * The server's limits from its options, else the environment (`WORKFLOWS_RETENTION`), checked when
 * the server is created: a bad value throws a TypeError naming it.
 */
export function serverLimits(
  options: { maxEventBytes?: number; retention?: RetentionOptions },
  env: NodeJS.ProcessEnv,
): { maxEventBytes: number | null; retention: RetentionOptions | null } {
  const max = options.maxEventBytes ?? DEFAULT_MAX_EVENT_BYTES;
  if (!(typeof max === "number" && max > 0)) {
    throw new TypeError(`maxEventBytes must be a positive number of bytes, got ${String(max)}`);
  }
  if (options.retention !== undefined) checkRetention(options.retention);
  const retention = options.retention ?? retentionFromEnv(env["WORKFLOWS_RETENTION"]);
  return {
    maxEventBytes: Number.isFinite(max) ? max : null,
    retention: retains(retention) ? retention : null,
  };
}
