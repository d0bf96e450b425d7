/** Segments a base path may have: plain names, nothing to decode or escape, never `.` or `..`. */
const BASE_PATH = /^(?:\/[A-Za-z0-9_~@:+-][A-Za-z0-9._~@:+-]*)+$/;

/**
 * The `basePath` option made canonical: `""` for none (`""` or `/`), else `/a/b` without a trailing slash.
 *
 * @throws TypeError for a path that is not a plain absolute path (`api/x`, `/a/../b`, `/a%20b`, `/a?b`).
 */
export function normalizeBasePath(value: string | undefined): string {
  if (value === undefined) return "";
  const trimmed = value.replace(/\/+$/, "");
  if (trimmed === "") return "";
  if (BASE_PATH.test(trimmed) && !/\/\.\.?(?:\/|$)/.test(trimmed)) return trimmed;
  throw new TypeError(
    `basePath must be an absolute path of plain segments such as "/api/workflows", not ${JSON.stringify(value)}`,
  );
}

/** Where a request's path lies in a server mounted at a base path. */
export interface Inside {
  /** The path below the base (`/` for the base itself). */
  path: string;
  /**
   * The relative URL of the base with its trailing slash, as seen from the request's own URL, when
   * the request named the base without one (`/api/workflows`: `workflows/`); null otherwise.
   */
  baseHref: string | null;
}

/** The request's path below `base` (canonical, `""` for none), or null for a path outside it. */
export function insideBase(base: string, path: string): Inside | null {
  if (base === "") return { path, baseHref: null };
  if (!path.startsWith(base)) return null;
  if (path.length === base.length)
    return { path: "/", baseHref: `${base.slice(base.lastIndexOf("/") + 1)}/` };
  return path.charCodeAt(base.length) === 47 ? { path: path.slice(base.length), baseHref: null } : null;
}
