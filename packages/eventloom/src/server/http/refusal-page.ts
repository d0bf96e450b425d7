import { WorkflowError } from "../../core/index.js";
import type { BytesAnswer } from "./answer.js";
import type { HttpRequest } from "./http-request.js";
import { isApiPath } from "./route-table.js";

const escapeHtml = (text: string): string => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/**
 * The answer to a person whose browser opened the debugger at an address the server does not
 * answer to (403 HOST_NOT_ALLOWED): a page that says so and what to change, instead of JSON. Only
 * for a page navigation (GET or HEAD of a debugger path that accepts HTML); the API answers JSON.
 */
export function refusalPage(error: unknown, request: HttpRequest): BytesAnswer | null {
  if (!(error instanceof WorkflowError) || error.code !== "HOST_NOT_ALLOWED") return null;
  if (request.method !== "GET" && request.method !== "HEAD") return null;
  if (isApiPath(request.path) || !(request.header("accept") ?? "").includes("text/html")) return null;
  const body =
    '<!doctype html><html lang="en"><meta charset="utf-8"><title>Host not allowed</title>' +
    "<h1>This server does not answer to this address</h1>" +
    `<p>${escapeHtml(error.message)}.</p>` +
    "<p>It protects itself against DNS rebinding: open the debugger at <code>http://localhost:&lt;port&gt;/</code> " +
    "or <code>http://127.0.0.1:&lt;port&gt;/</code>, or start the server with this name in <code>allowedHosts</code> " +
    "(<code>WORKFLOWS_ALLOWED_HOSTS</code>).</p></html>";
  return {
    kind: "bytes",
    status: 403,
    body,
    headers: {
      "content-type": "text/html; charset=utf-8",
      "content-security-policy": "default-src 'none'; frame-ancestors 'none'",
      "cache-control": "no-store",
    },
  };
}
