import { tryDecodeURIComponent } from "hono/utils/url";
import { API_PREFIXES, type OperationId, ROUTES } from "../../protocol/routes.js";

/** A route of protocol/routes.ts, its path cut into segments once. */
interface CompiledRoute {
  id: OperationId;
  method: string;
  auth: boolean;
  /** A literal segment, or `null` for a `{param}` slot (its name is in `params` at the same index). */
  segments: (string | null)[];
  params: (string | null)[];
  /** Whether one trailing slash still names the route for 404/405 (not after a file name). */
  loose: boolean;
}

const COMPILED: readonly CompiledRoute[] = Object.entries(ROUTES).map(([id, spec]) => {
  const parts = spec.path.split("/");
  return {
    id: id as OperationId,
    method: spec.method,
    auth: spec.auth,
    segments: parts.map((p) => (p.startsWith("{") ? null : p)),
    params: parts.map((p) => (p.startsWith("{") ? p.slice(1, -1) : null)),
    loose: !spec.path.includes("."),
  };
});

/** The routes of each method by their number of segments: a request compares only those. */
const BY_METHOD = new Map<string, CompiledRoute[][]>();
for (const route of COMPILED) {
  const byLength = BY_METHOD.get(route.method) ?? [];
  BY_METHOD.set(route.method, byLength);
  const sameLength = byLength[route.segments.length] ?? [];
  byLength[route.segments.length] = sameLength;
  sameLength.push(route);
}

/** The route a request names, with its path's values percent-decoded. */
export interface RouteMatch {
  id: OperationId;
  auth: boolean;
  params: Record<string, string>;
}

function matches(route: CompiledRoute, parts: string[]): boolean {
  if (route.segments.length !== parts.length) return false;
  for (let i = 1; i < parts.length; i++) {
    const literal = route.segments[i];
    if (literal === null ? parts[i] === "" : literal !== parts[i]) return false;
  }
  return true;
}

/** The route of `method` (HEAD as GET) and `path`, exactly (no trailing slash), or null. */
export function matchRoute(method: string, path: string): RouteMatch | null {
  const wanted = method === "HEAD" ? "GET" : method;
  const parts = path.split("/");
  for (const route of BY_METHOD.get(wanted)?.[parts.length] ?? []) {
    if (!matches(route, parts)) continue;
    const params: Record<string, string> = {};
    for (let i = 1; i < parts.length; i++) {
      const name = route.params[i];
      if (name) params[name] = tryDecodeURIComponent(parts[i] as string);
    }
    return { id: route.id, auth: route.auth, params };
  }
  return null;
}

/** The methods a path answers (one trailing slash allowed), or null when it names no route: 405 or 404. */
export function allowedMethods(path: string): string[] | null {
  const parts = path.split("/");
  const trimmed = parts.length > 2 && parts[parts.length - 1] === "" ? parts.slice(0, -1) : null;
  const methods: string[] = [];
  for (const route of COMPILED) {
    if (matches(route, parts) || (trimmed !== null && route.loose && matches(route, trimmed))) {
      if (!methods.includes(route.method)) methods.push(route.method);
    }
  }
  return methods.length > 0 ? methods : null;
}

/** True for a path of the API: it names a route, or lies under one of the API's prefixes. */
export function isApiPath(path: string): boolean {
  if (allowedMethods(path) !== null) return true;
  const end = path.indexOf("/", 1);
  return API_PREFIXES.includes(end === -1 ? path.slice(1) : path.slice(1, end));
}
