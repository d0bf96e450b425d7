import type { Headers } from "./answer.js";

const ALLOW_METHODS = "GET,POST,OPTIONS";
const ALLOW_HEADERS = "Authorization,Content-Type,Last-Event-ID,X-Workflows-Wire,Idempotency-Key";
/** Answer headers a page of an allowed origin may read. */
const EXPOSE_HEADERS = "Idempotent-Replayed,Retry-After";

/**
 * The CORS headers of a simple (not preflight) request's answer: the allowed origin (`*`, or the
 * request's own with `Vary: Origin`); none for an origin not allowed.
 */
export function addCorsHeaders(
  allowed: string | string[],
  origin: string | undefined,
  headers: Headers,
): void {
  const value = allowedOrigin(allowed, origin);
  if (value === null) return;
  headers["access-control-allow-origin"] = value;
  headers["access-control-expose-headers"] = EXPOSE_HEADERS;
  if (value !== "*") headers["vary"] = headers["vary"] ? `${headers["vary"]}, Origin` : "Origin";
}

/** True when `origin` may use the API from a browser. */
export const isCorsAllowed = (allowed: string | string[], origin: string | undefined): boolean =>
  allowedOrigin(allowed, origin) !== null;

/** The Access-Control-Allow-Origin value for a request's origin, or null when it is not allowed. */
function allowedOrigin(allowed: string | string[], origin: string | undefined): string | null {
  if (allowed === "*") return "*";
  const list = typeof allowed === "string" ? [allowed] : allowed;
  if (list.includes("*")) return "*";
  return origin !== undefined && list.includes(origin) ? origin : null;
}

/**
 * The answer to a preflight (any `OPTIONS` request): 204 with the methods and headers the API
 * accepts, cacheable for ten minutes. As hono's cors middleware answered it before: here only an
 * exact origin of the list is echoed.
 */
export function preflightHeaders(allowed: string | string[], origin: string | undefined): Headers {
  const headers: Headers = {};
  // `["*"]` (WORKFLOWS_CORS_ORIGINS=*) allows any origin, as `"*"` does.
  const value = allowedOrigin(allowed, origin);
  if (value) headers["access-control-allow-origin"] = value;
  headers["access-control-max-age"] = "600";
  headers["access-control-allow-methods"] = ALLOW_METHODS;
  headers["access-control-allow-headers"] = ALLOW_HEADERS;
  headers["vary"] =
    value === "*" ? "Access-Control-Request-Headers" : "Origin, Access-Control-Request-Headers";
  return headers;
}
