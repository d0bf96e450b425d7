import { WorkflowError } from "../../core/index.js";
import type { ServerContext } from "../server-context.js";
import { isCorsAllowed } from "./cors.js";
import { isHostAllowed } from "./host-check.js";
import type { HttpRequest } from "./http-request.js";

/**
 * The checks every request gets before it is routed (API and debugger alike), whichever way it came
 * in: its Host (DNS rebinding) and, for a POST, its media type (cross-site form posts).
 *
 * @throws WorkflowError `HOST_NOT_ALLOWED` (403) or `UNSUPPORTED_MEDIA_TYPE` (415).
 */
export function guardRequest(ctx: ServerContext, request: HttpRequest): void {
  const host = request.header("host");
  if (!isHostAllowed(host, ctx.allowedHosts)) {
    throw new WorkflowError(
      "HOST_NOT_ALLOWED",
      `Host "${host}" is not allowed: add it to the server's allowedHosts (WORKFLOWS_ALLOWED_HOSTS)`,
    );
  }
  if (request.method !== "POST") return;
  const type = request.header("content-type");
  if (type !== undefined) {
    if (!isJsonType(type)) throw unsupported(`not ${type}`);
    return;
  }
  // No Content-Type: only a body-less POST from outside a browser, or from the server's own page
  // (a page of another origin could otherwise post without a preflight).
  const origin = request.header("origin");
  if (isForeignOrigin(origin, host) && !isCorsAllowed(ctx.corsOrigins, origin)) {
    throw unsupported("required for a request from another origin");
  }
}

/** A body read without a Content-Type: allowed only when empty (`curl -X POST` with no data). */
export function refuseUntypedBody(request: HttpRequest, body: unknown): void {
  if (body !== undefined && request.method === "POST" && request.header("content-type") === undefined) {
    throw unsupported("required for a request with a body");
  }
}

const unsupported = (why: string) =>
  new WorkflowError("UNSUPPORTED_MEDIA_TYPE", `A POST's Content-Type must be application/json (${why})`);

/** `application/json`, in any case, with any parameters (`; charset=utf-8`). */
function isJsonType(value: string): boolean {
  if (value === "application/json") return true; // what nearly every client sends: nothing to cut
  const media = value.split(";", 1)[0] ?? "";
  return media.trim().toLowerCase() === "application/json";
}

/** An Origin header that is not the request's own (`null` included); none is not foreign. */
function isForeignOrigin(origin: string | undefined, host: string | undefined): boolean {
  if (origin === undefined) return false;
  try {
    return new URL(origin).host !== (host ?? "").toLowerCase();
  } catch {
    return true;
  }
}
