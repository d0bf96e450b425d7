import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { MemoryStore } from "eventloom/server";
import { afterEach, describe, expect, test } from "vitest";
import { createCliLogger } from "../../src/cli/cli-logger.js";
import { BASE, call, callJson, makeServer, tempDir } from "./helpers.js";

let server: ReturnType<typeof makeServer>;
const cleanups: (() => void)[] = [];
afterEach(async () => {
  await server?.close();
  for (const c of cleanups.splice(0)) c();
});

describe("size limit", () => {
  test("a body over the limit with Content-Length is a 413", async () => {
    server = makeServer({ bodyLimitBytes: 1000 });
    const res = await callJson(server, "POST", "/workflows/greet/run", {
      start_event: { name: "x".repeat(2000) },
    });
    expect(res).toMatchObject({ status: 413, body: { code: "PAYLOAD_TOO_LARGE" } });
  });

  test("a chunked body is refused as soon as it passes the limit, without reading the rest", async () => {
    server = makeServer({ bodyLimitBytes: 1000 });
    let pulled = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        pulled++;
        if (pulled > 1000) controller.close();
        else controller.enqueue(new TextEncoder().encode("x".repeat(100)));
      },
    });
    const res = await server.fetch(
      new Request(`${BASE}/workflows/greet/run`, { method: "POST", body, duplex: "half" } as RequestInit),
    );
    expect(res.status).toBe(413);
    expect(pulled).toBeLessThan(50);
  });

  test("the default limit is 1 MiB", async () => {
    server = makeServer();
    const big = JSON.stringify({ start_event: { name: "y".repeat(1024 * 1024) } });
    expect((await call(server, "POST", "/workflows/greet/run", big)).status).toBe(413);
  });
});

describe("routing", () => {
  test("unknown routes are 404 NOT_FOUND", async () => {
    server = makeServer();
    for (const path of ["/nope", "/workflows/greet/nope", "/handlers/a/b/c"]) {
      expect(await callJson(server, "GET", path)).toMatchObject({ status: 404, body: { code: "NOT_FOUND" } });
    }
  });

  test("a known path with the wrong method is 405 METHOD_NOT_ALLOWED with Allow", async () => {
    server = makeServer();
    const res = await callJson(server, "DELETE", "/handlers");
    expect(res).toMatchObject({ status: 405, body: { code: "METHOD_NOT_ALLOWED" } });
    expect(res.headers.get("allow")).toBe("GET");
    expect((await callJson(server, "GET", "/workflows/greet/run")).status).toBe(405);
    expect((await callJson(server, "PUT", "/events/x")).headers.get("allow")).toBe("GET, POST");
  });
});

describe("auth", () => {
  test("every route but /health needs the bearer token: 401 without, 401 wrong, 200 right", async () => {
    server = makeServer({ token: "s3cret" });
    expect((await callJson(server, "GET", "/health")).status).toBe(200);
    const none = await callJson(server, "GET", "/workflows");
    expect(none).toMatchObject({ status: 401, body: { code: "UNAUTHORIZED" } });
    expect(
      (await callJson(server, "GET", "/workflows", undefined, { authorization: "Bearer nope" })).status,
    ).toBe(401);
    expect(
      (await callJson(server, "GET", "/workflows", undefined, { authorization: "Bearer s3cret1" })).status,
    ).toBe(401);
    expect((await callJson(server, "GET", "/workflows", undefined, { authorization: "s3cret" })).status).toBe(
      401,
    );
    expect(
      (await callJson(server, "GET", "/workflows", undefined, { authorization: "Bearer s3cret" })).status,
    ).toBe(200);
    expect((await callJson(server, "POST", "/workflows/greet/run", {})).status).toBe(401);
    expect((await callJson(server, "GET", "/openapi.json")).status).toBe(401);
  });

  test("the token comes from WORKFLOWS_SERVER_TOKEN when not given", async () => {
    const previous = process.env["WORKFLOWS_SERVER_TOKEN"];
    process.env["WORKFLOWS_SERVER_TOKEN"] = "from-env";
    try {
      const { WorkflowServer } = await import("eventloom/server");
      const s = new WorkflowServer({ store: new MemoryStore() });
      expect((await s.fetch(new Request(`${BASE}/workflows`))).status).toBe(401);
      const ok = await s.fetch(
        new Request(`${BASE}/workflows`, { headers: { authorization: "Bearer from-env" } }),
      );
      expect(ok.status).toBe(200);
      await s.close();
    } finally {
      if (previous === undefined) delete process.env["WORKFLOWS_SERVER_TOKEN"];
      else process.env["WORKFLOWS_SERVER_TOKEN"] = previous;
    }
  });

  test("the UI's files need no token", async () => {
    server = makeServer({ token: "s3cret", uiDir: undefined });
    const res = await call(server, "GET", "/");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("text/html");
  });
});

describe("CORS", () => {
  test("by default no foreign origin is allowed, in a preflight or an answer", async () => {
    server = makeServer({ token: "t" });
    const pre = await server.fetch(
      new Request(`${BASE}/workflows/greet/run`, {
        method: "OPTIONS",
        headers: { origin: "http://ui.example", "access-control-request-method": "POST" },
      }),
    );
    expect(pre.status).toBe(204);
    expect(pre.headers.get("access-control-allow-origin")).toBeNull();
    const res = await call(server, "GET", "/health", undefined, { origin: "http://ui.example" });
    expect(res.headers.get("access-control-allow-origin")).toBeNull();
  });

  test("preflight is answered (also with a token) and corsOrigins * allows any origin", async () => {
    server = makeServer({ token: "t", corsOrigins: "*" });
    const pre = await server.fetch(
      new Request(`${BASE}/workflows/greet/run`, {
        method: "OPTIONS",
        headers: {
          origin: "http://ui.example",
          "access-control-request-method": "POST",
          "access-control-request-headers": "authorization, content-type",
        },
      }),
    );
    expect(pre.status).toBe(204);
    expect(pre.headers.get("access-control-allow-origin")).toBe("*");
    expect(pre.headers.get("access-control-allow-headers")?.toLowerCase()).toContain("authorization");
    const res = await call(server, "GET", "/health", undefined, { origin: "http://ui.example" });
    expect(res.headers.get("access-control-allow-origin")).toBe("*");
  });

  test("WORKFLOWS_CORS_ORIGINS=* opens preflights and answers to any origin", async () => {
    const saved = process.env["WORKFLOWS_CORS_ORIGINS"];
    process.env["WORKFLOWS_CORS_ORIGINS"] = " * ";
    try {
      server = makeServer();
    } finally {
      if (saved === undefined) delete process.env["WORKFLOWS_CORS_ORIGINS"];
      else process.env["WORKFLOWS_CORS_ORIGINS"] = saved;
    }
    const pre = await server.fetch(
      new Request(`${BASE}/workflows/greet/run`, {
        method: "OPTIONS",
        headers: { origin: "http://ui.example", "access-control-request-method": "POST" },
      }),
    );
    expect(pre.headers.get("access-control-allow-origin")).toBe("*");
    const res = await call(server, "GET", "/workflows", undefined, { origin: "http://ui.example" });
    expect(res.headers.get("access-control-allow-origin")).toBe("*");
  });

  test("configured origins are the only ones allowed", async () => {
    server = makeServer({ corsOrigins: ["http://good.example"] });
    const good = await call(server, "GET", "/workflows", undefined, { origin: "http://good.example" });
    expect(good.headers.get("access-control-allow-origin")).toBe("http://good.example");
    const bad = await call(server, "GET", "/workflows", undefined, { origin: "http://bad.example" });
    expect(bad.headers.get("access-control-allow-origin")).toBeNull();
  });
});

describe("server errors", () => {
  test("an unexpected error is a 500 INTERNAL_ERROR that leaks nothing", async () => {
    class BrokenStore extends MemoryStore {
      override async getHandler(): Promise<never> {
        throw new Error("secret internals at /srv/db");
      }
    }
    server = makeServer({ store: new BrokenStore() });
    const res = await call(server, "GET", "/handlers/x");
    const text = await res.text();
    expect(res.status).toBe(500);
    expect(JSON.parse(text)).toEqual({ detail: "Internal server error", code: "INTERNAL_ERROR" });
    expect(text).not.toContain("secret");
  });

  test("an unexpected 500 is logged once as an internal error with the error's message and stack", async () => {
    class BrokenStore extends MemoryStore {
      override async getHandler(): Promise<never> {
        throw new Error("secret internals at /srv/db");
      }
    }
    const lines: string[] = [];
    const logger = createCliLogger({ level: "info", format: "json", write: (line) => lines.push(line) });
    server = makeServer({ store: new BrokenStore(), logger });
    const res = await call(server, "GET", "/handlers/x");
    expect(res.status).toBe(500);
    expect(await res.text()).not.toContain("secret");
    const logged = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    const internal = logged.filter((r) => r["msg"] === "internal error");
    expect(internal).toHaveLength(1);
    expect(internal[0]).toMatchObject({
      level: "error",
      error: { name: "Error", message: "secret internals at /srv/db" },
    });
    const stack = (internal[0]?.["error"] as { stack?: string } | undefined)?.stack ?? "";
    expect(stack).toContain("secret internals at /srv/db");
    expect(stack).toMatch(/BrokenStore\.getHandler .*http-errors\.test\.ts/);
  });

  test("an unavailable store is a 503", async () => {
    const store = new MemoryStore();
    server = makeServer({ store });
    expect((await call(server, "GET", "/handlers")).status).toBe(200);
    await store.close();
    expect(await callJson(server, "GET", "/handlers")).toMatchObject({
      status: 503,
      body: { code: "STORE_UNAVAILABLE" },
    });
  });

  test("requests after close() are refused with 503", async () => {
    server = makeServer();
    await server.close();
    expect((await callJson(server, "GET", "/workflows")).status).toBe(503);
  });
});

describe("the debugger UI", () => {
  test("serves index.html without caching and assets as immutable, with content types", async () => {
    const { dir: parent, remove } = tempDir();
    cleanups.push(remove);
    const dir = join(parent, "ui");
    mkdirSync(join(dir, "assets"), { recursive: true });
    writeFileSync(join(dir, "index.html"), "<!doctype html><title>ui</title>");
    writeFileSync(join(dir, "assets", "app-123.js"), "console.log(1)");
    writeFileSync(join(dir, "assets", "app-123.css"), "body{}");
    writeFileSync(join(dir, "..", "secret.txt"), "no");
    server = makeServer({ uiDir: dir });
    const index = await call(server, "GET", "/");
    expect(index.headers.get("content-type")).toContain("text/html");
    expect(index.headers.get("cache-control")).toBe("no-cache");
    expect(await index.text()).toContain("<title>ui</title>");
    const js = await call(server, "GET", "/assets/app-123.js");
    expect(js.headers.get("content-type")).toContain("javascript");
    expect(js.headers.get("cache-control")).toBe("public, max-age=31536000, immutable");
    expect((await call(server, "GET", "/assets/app-123.css")).headers.get("content-type")).toContain(
      "text/css",
    );
    for (const path of [
      "/../secret.txt",
      "/assets/%2e%2e/%2e%2e/secret.txt",
      "/%2e%2e/secret.txt",
      "/assets/..%2f..%2fsecret.txt",
    ]) {
      const res = await call(server, "GET", path);
      expect(res.status, path).toBe(404);
    }
    expect((await call(server, "GET", "/missing.js")).status).toBe(404);
  });

  test("without a UI build, / says the debugger was not built", async () => {
    const { dir, remove } = tempDir();
    cleanups.push(remove);
    server = makeServer({ uiDir: join(dir, "nothing-here") });
    const res = await call(server, "GET", "/");
    expect(res.status).toBe(200);
    expect(await res.text()).toContain("not built");
  });
});

describe("the debugger UI by default", () => {
  test("is the repository's UI build when running from sources (or the not-built page)", async () => {
    server = makeServer();
    const res = await call(server, "GET", "/");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("text/html");
    expect(res.headers.get("cache-control")).toBe("no-cache");
  });
});
