/**
 * How long ended handlers are kept, by how they ended, in milliseconds after they ended; a status
 * left out is kept forever. Nothing running (blocked ones included) is ever deleted.
 */
export interface RetentionOptions {
  completedMs?: number;
  failedMs?: number;
  cancelledMs?: number;
}

const UNITS: Record<string, number> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
};
const DURATION = /^(\d+(?:\.\d+)?)(ms|s|m|h|d|w)$/;
const KEYS = { completed: "completedMs", failed: "failedMs", cancelled: "cancelledMs" } as const;

/** A duration such as `7d`, `12h`, `90m`, `30s` or `500ms`, in milliseconds; null when it is not one. */
export function parseDuration(text: string): number | null {
  const match = DURATION.exec(text.trim());
  if (!match) return null;
  const ms = Number(match[1]) * (UNITS[match[2] as string] as number);
  return ms > 0 && Number.isFinite(ms) ? ms : null;
}

/**
 * `WORKFLOWS_RETENTION`: one duration for every ended status (`7d`), or some of them by name
 * (`completed=7d,failed=30d,cancelled=1d`). Unset or empty: null (keep everything). Throws a
 * TypeError naming the variable for anything else.
 */
export function retentionFromEnv(value: string | undefined): RetentionOptions | null {
  const text = value?.trim() ?? "";
  if (text === "") return null;
  const bad = (why: string) =>
    new TypeError(
      `Invalid WORKFLOWS_RETENTION "${text}": ${why} (expected a duration such as 7d, 12h, 30m, or completed=7d,failed=30d,cancelled=1d)`,
    );
  if (!text.includes("=")) {
    const ms = parseDuration(text);
    if (ms === null) throw bad("not a duration");
    return { completedMs: ms, failedMs: ms, cancelledMs: ms };
  }
  const options: RetentionOptions = {};
  for (const part of text.split(",")) {
    const [name = "", duration = "", ...rest] = part.split("=").map((p) => p.trim());
    const key = KEYS[name as keyof typeof KEYS];
    if (!Object.hasOwn(KEYS, name) || rest.length > 0) throw bad(`unknown status "${name}"`);
    const ms = parseDuration(duration);
    if (ms === null) throw bad(`"${duration}" is not a duration`);
    options[key] = ms;
  }
  return options;
}

/** Throws a TypeError unless each given age is a positive number of milliseconds. */
export function checkRetention(options: RetentionOptions): void {
  for (const key of Object.keys(options)) {
    if (!Object.values(KEYS).includes(key as (typeof KEYS)[keyof typeof KEYS])) {
      throw new TypeError(`retention has no option "${key}" (completedMs, failedMs, cancelledMs)`);
    }
    const ms = options[key as keyof RetentionOptions];
    if (ms !== undefined && !(typeof ms === "number" && ms > 0)) {
      throw new TypeError(`retention.${key} must be a positive number of milliseconds, got ${String(ms)}`);
    }
  }
}

/** True when the options delete anything at all. */
export const retains = (options: RetentionOptions | null): options is RetentionOptions =>
  options !== null && Object.values(options).some((ms) => ms !== undefined);
