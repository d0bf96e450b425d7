// A browser app's host for tests in Chromium: the page and its script (bundled by esbuild from the
// sources, as an app's bundler would) on one origin, and /api/* forwarded to a workflow server whose
// address may change (a server restarted on another port), streams included. While the server is
// down, /api answers 502, as a reverse proxy in front of it would.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const src = fileURLToPath(new URL("../../src/", import.meta.url));

/** Bundles a page's entry (TSX allowed) for the browser, `eventloom/*` resolved to the sources. */
export async function bundlePage(entry: string): Promise<string> {
  const result = await build({
    entryPoints: [entry],
    bundle: true,
    format: "esm",
    platform: "browser",
    target: "es2022",
    write: false,
    jsx: "automatic",
    define: { "process.env.NODE_ENV": '"production"' },
    alias: {
      "eventloom/ai-sdk": `${src}ai-sdk/index.ts`,
      "eventloom/client": `${src}client/index.ts`,
      "eventloom/react": `${src}react/index.ts`,
    },
    logLevel: "silent",
  });
  return result.outputFiles[0]?.text ?? "";
}

const PAGE = `<!doctype html><html><head><meta charset="utf-8"><title>test</title></head>
<body><div id="root"></div><script type="module" src="/app.js"></script></body></html>`;

const FORWARDED = ["content-type", "accept", "last-event-id", "idempotency-key", "authorization"];

export class AppHost {
  readonly #script: string;
  #server: Server | null = null;
  /** Where /api/* goes: a workflow server's URL (with a trailing slash), or null while it is down. */
  target: string | null = null;
  url = "";

  constructor(script: string) {
    this.#script = script;
  }

  async start(): Promise<string> {
    const server = createServer((req, res) => void this.#handle(req, res));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    this.#server = server;
    this.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    return this.url;
  }

  async close(): Promise<void> {
    const server = this.#server;
    if (!server) return;
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = req.url ?? "/";
    if (path === "/" || path.startsWith("/?")) {
      res.writeHead(200, { "content-type": "text/html; charset=utf-8" }).end(PAGE);
      return;
    }
    if (path === "/app.js") {
      res.writeHead(200, { "content-type": "text/javascript; charset=utf-8" }).end(this.#script);
      return;
    }
    if (!path.startsWith("/api/")) {
      res.writeHead(404).end();
      return;
    }
    await this.#forward(req, res, path.slice("/api/".length));
  }

  async #forward(req: IncomingMessage, res: ServerResponse, rest: string): Promise<void> {
    const abort = new AbortController();
    res.on("close", () => abort.abort());
    const bad = () => {
      if (!res.headersSent) {
        res.writeHead(502, { "content-type": "application/json" });
        res.end(JSON.stringify({ detail: "The workflow server is down", code: "BAD_GATEWAY" }));
      } else res.destroy();
    };
    if (!this.target) return bad();
    const headers: Record<string, string> = {};
    for (const name of FORWARDED) {
      const value = req.headers[name];
      if (typeof value === "string") headers[name] = value;
    }
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    let upstream: Response;
    try {
      upstream = await fetch(new URL(rest, this.target), {
        method: req.method ?? "GET",
        headers,
        ...(chunks.length > 0 ? { body: Buffer.concat(chunks) } : {}),
        signal: abort.signal,
      });
    } catch {
      return bad();
    }
    const out: Record<string, string> = {};
    upstream.headers.forEach((value, name) => {
      if (name !== "content-length" && name !== "content-encoding" && name !== "transfer-encoding")
        out[name] = value;
    });
    res.writeHead(upstream.status, out);
    try {
      const reader = upstream.body?.getReader();
      for (;;) {
        const chunk = await reader?.read();
        if (!chunk || chunk.done) break;
        res.write(chunk.value);
      }
      res.end();
    } catch {
      // the server went away mid-stream: the browser sees the connection drop, as it would
      res.destroy();
    }
  }
}
