/**
 * The server answers, but refuses this page: its address is not an allowed Host (403
 * HOST_NOT_ALLOWED, DNS-rebinding protection), or, for a debugger loaded from elsewhere, its origin
 * is not one the server lets call it (CORS: the browser reports only a failed fetch). Said plainly,
 * with what to change, instead of "connection lost".
 */

/** The start of every refusal sentence: the connection banner tells a refusal from a lost server by it. */
export const REFUSED = "The server refuses this page: ";

/** A sentence for a refusal of this page by the server, or null for any other error. */
export function refusalOf(error: unknown): string | null {
  if (typeof error !== "object" || error === null) return null;
  const e = error as { status?: unknown; code?: unknown; name?: unknown; url?: unknown };
  const here = window.location;
  if (e.status === 403 && e.code === "HOST_NOT_ALLOWED") {
    return (
      `${REFUSED}it does not answer to the address "${here.hostname}" (a protection against DNS rebinding). ` +
      `Open the debugger at http://localhost${here.port ? `:${here.port}` : ""}/, or add "${here.hostname}" ` +
      "to the server's allowedHosts (WORKFLOWS_ALLOWED_HOSTS)."
    );
  }
  if (e.name === "WorkflowNetworkError" && typeof e.url === "string") {
    const origin = originOf(e.url);
    if (origin !== null && origin !== here.origin) {
      return (
        `${REFUSED}the server at ${origin} could not be reached from ${here.origin}, or does not let ` +
        `pages of this origin call it (CORS). Add ${here.origin} to its corsOrigins ` +
        "(WORKFLOWS_CORS_ORIGINS), or open the debugger the server serves itself."
      );
    }
  }
  return null;
}

/** True for a message made by {@link refusalOf}. */
export const isRefusal = (message: string | null): boolean => message?.startsWith(REFUSED) === true;

function originOf(url: string): string | null {
  try {
    return new URL(url).origin;
  } catch {
    return null;
  }
}
