import { getPath } from "hono/utils/url";

/** Request targets node-server took as they came (no dot segments, nothing to escape). */
const PLAIN_TARGET = /^\/[!$&-;=?-[\]_a-z~]*$/;
const DOT_SEGMENT = /\/\.\.?(?:[/?#]|$)/;
const PLAIN_HOST = /^[a-z0-9._-]+(?::(?:[1-5]\d{3,4}|[6-9]\d{3}))?$/;

/** A request target's path (percent-decoded as hono decodes it) and query string (without `?`). */
export interface Target {
  path: string;
  query: string;
}

/**
 * The path and query of node's request line, as the web Request hono used to see for it: dot
 * segments resolved, percent-escapes decoded except reserved characters. Null for a target or Host
 * header that makes no URL (the request is answered 400, as before).
 */
export function requestTarget(url: string, host: string | undefined): Target | null {
  const absolute = url.startsWith("http://") || url.startsWith("https://");
  if (!absolute && (host === undefined || host === "")) return null;
  if (
    host !== undefined &&
    url.charCodeAt(0) === 47 &&
    PLAIN_TARGET.test(url) &&
    !DOT_SEGMENT.test(url) &&
    !url.includes("#")
  ) {
    if (PLAIN_HOST.test(host) || validHost(host, url)) return split(url);
    return null;
  }
  let href: string;
  try {
    if (absolute) {
      if (hasBackslash(url)) return null;
      href = new URL(url).href;
    } else {
      if (url.charCodeAt(0) !== 47 || hasBackslash(url)) return null;
      if (host === undefined || (!PLAIN_HOST.test(host) && !validHost(host, url))) return null;
      href = new URL(`http://${host}${url}`).href;
    }
  } catch {
    return null;
  }
  return fromUrl(href);
}

/** The path and query of an absolute URL (a web Request's). */
export function fromUrl(href: string): Target {
  const hash = href.indexOf("#");
  const url = hash === -1 ? href : href.slice(0, hash);
  const path = getPath({ url } as Request);
  const q = url.indexOf("?", url.indexOf(":") + 4);
  return { path, query: q === -1 ? "" : url.slice(q + 1) };
}

function split(url: string): Target {
  const q = url.indexOf("?");
  const raw = q === -1 ? url : url.slice(0, q);
  const path = raw.includes("%") ? getPath({ url: `http://h${raw}` } as Request) : raw;
  return { path, query: q === -1 ? "" : url.slice(q + 1) };
}

// A backslash before the query: node-server refused those rather than guess which path was meant.
function hasBackslash(url: string): boolean {
  const slash = url.indexOf("\\");
  if (slash === -1) return false;
  const query = url.indexOf("?");
  return query === -1 || slash < query;
}

function validHost(host: string, url: string): boolean {
  if (hasBackslash(url)) return false;
  try {
    const { hostname } = new URL(`http://${host}${url}`);
    return (
      hostname.length === host.length ||
      hostname === (host.includes(":") ? host.replace(/:\d+$/, "") : host).toLowerCase()
    );
  } catch {
    return false;
  }
}
