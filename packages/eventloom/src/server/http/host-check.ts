import { isIP } from "node:net";

/**
 * Whether a request's `Host` names this server safely (DNS rebinding): `localhost` and any
 * `*.localhost` (they always resolve to loopback, RFC 6761), an IP literal (v4, or v6 in brackets),
 * or a name of `allowed` (`*` allows any), each with any port. A missing Host is allowed: HTTP/1.0
 * clients send none, and a browser always sends one.
 */
export function isHostAllowed(host: string | undefined, allowed: readonly string[]): boolean {
  if (host === undefined || allowed.includes("*")) return true;
  const name = hostName(host.trim().toLowerCase());
  if (name === null) return false;
  if (name === "localhost" || name.endsWith(".localhost")) return true;
  if (isIP(name) !== 0) return true;
  return allowed.some((a) => a.toLowerCase() === name);
}

/** The name or address of a Host value without its port; an IPv6 literal without its brackets. */
function hostName(host: string): string | null {
  if (host.startsWith("[")) {
    const end = host.indexOf("]");
    if (end < 0) return null;
    const rest = host.slice(end + 1);
    if (rest !== "" && !/^:[0-9]*$/.test(rest)) return null;
    const v6 = host.slice(1, end);
    return isIP(v6) === 6 ? v6 : null;
  }
  const colon = host.indexOf(":");
  const name = colon < 0 ? host : host.slice(0, colon);
  if (colon >= 0 && !/^[0-9]*$/.test(host.slice(colon + 1))) return null;
  // A trailing dot names the same host.
  return name.endsWith(".") ? name.slice(0, -1) : name;
}
