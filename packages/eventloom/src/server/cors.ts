/**
 * Puts the CORS answer for a simple (not preflight) request on a node response before it is
 * written. Preflights go through hono's cors middleware.
 */
export function setCorsHeaders(
  allowed: string | string[],
  origin: string | undefined,
  response: { setHeader(name: string, value: string): unknown },
): void {
  const value = allowedOrigin(allowed, origin);
  if (value === null) return;
  response.setHeader("access-control-allow-origin", value);
  if (value !== "*") response.setHeader("vary", "Origin");
}

/** The Access-Control-Allow-Origin value for a request's origin, or null when it is not allowed. */
function allowedOrigin(allowed: string | string[], origin: string | undefined): string | null {
  if (allowed === "*") return "*";
  const list = typeof allowed === "string" ? [allowed] : allowed;
  if (list.includes("*")) return "*";
  return origin !== undefined && list.includes(origin) ? origin : null;
}
