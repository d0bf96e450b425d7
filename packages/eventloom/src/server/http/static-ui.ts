import { readFile, stat } from "node:fs/promises";
import { extname, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import type { BytesAnswer } from "./answer.js";

const CONTENT_TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json; charset=utf-8",
  ".map": "application/json; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".jpg": "image/jpeg",
  ".jpeg": "image/jpeg",
  ".gif": "image/gif",
  ".webp": "image/webp",
  ".ico": "image/x-icon",
  ".txt": "text/plain; charset=utf-8",
  ".woff": "font/woff",
  ".woff2": "font/woff2",
  ".wasm": "application/wasm",
};

/**
 * The debugger's page loads only from its own origin (scripts, styles, the API, elkjs's worker) and
 * may not be framed by another page.
 */
const PAGE_CSP =
  "default-src 'self'; script-src 'self'; style-src 'self'; connect-src 'self'; worker-src 'self'; " +
  "img-src 'self' data:; font-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'";

const NOT_BUILT = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Workflows</title></head>
<body><h1>Workflows server</h1>
<p>The debugger UI was not built. Build it with <code>npm run build -w packages/ui</code>;
the HTTP API is available (see <a href="openapi.json">openapi.json</a>).</p></body></html>
`;

/**
 * The page with a `<base>` first in its head: served at a base path without its trailing slash
 * (`/api/workflows`), its relative URLs (scripts, styles, the API) must resolve under it, not beside it.
 */
function withBase(html: string, baseHref: string): string {
  return html.replace(/<head(\s[^>]*)?>/i, (head) => `${head}<base href="${baseHref}">`);
}

/**
 * Where the debugger's build is: `dist/ui` next to `dist/server` in the published package, else the
 * repository's `packages/ui/dist` (development, running from sources).
 */
export async function defaultUiDir(): Promise<string | null> {
  const packaged = fileURLToPath(new URL("../../ui/", import.meta.url));
  if (await isFile(resolve(packaged, "index.html"))) return packaged;
  // Only the repository's own UI package, never some other `ui` folder next to an installed package.
  const repo = fileURLToPath(new URL("../../../../ui/", import.meta.url));
  try {
    const manifest = JSON.parse(await readFile(resolve(repo, "package.json"), "utf8")) as { name?: unknown };
    if (manifest.name !== "@eventloom/ui") return null;
  } catch {
    return null;
  }
  const dist = resolve(repo, "dist");
  return (await isFile(resolve(dist, "index.html"))) ? dist : null;
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

// The build (scripts/copy-ui.mjs) writes `file.br` and `file.gz` next to the files worth compressing.
const ENCODINGS = [
  { name: "br", suffix: ".br" },
  { name: "gzip", suffix: ".gz" },
] as const;

/** The encodings an `Accept-Encoding` header allows (q > 0), by name, lower case. */
function acceptedEncodings(header: string | null): Set<string> {
  const accepted = new Set<string>();
  for (const part of (header ?? "").split(",")) {
    const [token = "", ...params] = part.trim().toLowerCase().split(";");
    const q = params.map((p) => /^\s*q\s*=\s*([\d.]+)\s*$/.exec(p)?.[1]).find((v) => v !== undefined);
    if (token && (q === undefined || Number(q) > 0)) accepted.add(token.trim());
  }
  return accepted;
}

/** The precompressed copy of `path` to send, if the build made one and the request accepts it. */
async function precompressed(
  path: string,
  acceptEncoding: string | null,
): Promise<{ path: string; encoding: string | null; vary: boolean }> {
  const accepted = acceptedEncodings(acceptEncoding);
  let vary = false;
  for (const { name, suffix } of ENCODINGS) {
    if (!(await isFile(path + suffix))) continue;
    vary = true; // the answer depends on Accept-Encoding: caches must key on it
    if (accepted.has(name) || (name === "gzip" && accepted.has("*"))) {
      return { path: path + suffix, encoding: name, vary };
    }
  }
  return { path, encoding: null, vary };
}

/**
 * Serves the UI's files: index.html revalidated every time, hashed assets cached for a year; the
 * build's brotli or gzip copy when `acceptEncoding` (the request's header) allows it. With a
 * `baseHref` (the page asked for at a base path without its trailing slash) the page gets a `<base>`.
 * Answers null when the path names no file (the caller answers 404). Never leaves `root`.
 */
export async function serveUiFile(
  configured: string | null,
  pathname: string,
  head: boolean,
  acceptEncoding: string | null = null,
  baseHref: string | null = null,
): Promise<BytesAnswer | null> {
  const root = configured !== null && (await isFile(resolve(configured, "index.html"))) ? configured : null;
  if (root === null) {
    if (pathname !== "/" && pathname !== "/index.html") return null;
    return {
      kind: "bytes",
      status: 200,
      body: head ? null : baseHref === null ? NOT_BUILT : withBase(NOT_BUILT, baseHref),
      headers: {
        "content-type": "text/html; charset=utf-8",
        "cache-control": "no-cache",
        "content-security-policy": PAGE_CSP,
      },
    };
  }
  let decoded: string;
  try {
    decoded = decodeURIComponent(pathname);
  } catch {
    return null;
  }
  if (decoded.includes("\0") || decoded.split(/[\\/]/).includes("..")) return null;
  const base = resolve(root);
  const relative = decoded === "/" ? "index.html" : decoded.replace(/^\/+/, "");
  const path = resolve(base, relative);
  if (path !== base && !path.startsWith(base + sep)) return null;
  if (!(await isFile(path))) return null;
  const isIndex = path === resolve(base, "index.html");
  if (isIndex && baseHref !== null) {
    const html = withBase(await readFile(path, "utf8"), baseHref);
    return {
      kind: "bytes",
      status: 200,
      body: head ? null : html,
      headers: {
        "content-type": CONTENT_TYPES[".html"] as string,
        "cache-control": "no-cache",
        "x-content-type-options": "nosniff",
        "content-security-policy": PAGE_CSP,
      },
    };
  }
  const sent = await precompressed(path, acceptEncoding);
  const body = head ? null : await readFile(sent.path);
  const cacheControl = relative.startsWith("assets/") ? "public, max-age=31536000, immutable" : "no-cache";
  const headers: Record<string, string> = {
    "content-type": CONTENT_TYPES[extname(path).toLowerCase()] ?? "application/octet-stream",
    "cache-control": isIndex ? "no-cache" : cacheControl,
    "x-content-type-options": "nosniff",
    ...(isIndex ? { "content-security-policy": PAGE_CSP } : {}),
  };
  if (sent.encoding !== null) headers["content-encoding"] = sent.encoding;
  if (sent.vary) headers["vary"] = "Accept-Encoding";
  return { kind: "bytes", status: 200, body, headers };
}
