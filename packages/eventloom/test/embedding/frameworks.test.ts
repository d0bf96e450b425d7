// docs/EMBEDDING.md's Hono, Express and Fastify files, as the guide has them, each listening on
// loopback with its real framework, all mounting the guide's one server (on a real SQLite file):
// driven through the real client under /api/workflows, the debugger's page, the app's own routes,
// and bodies that are short or already read.
import { execFile } from "node:child_process";
import { once } from "node:events";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { promisify } from "node:util";
import { createAdaptorServer } from "@hono/node-server";
import { WorkflowClient } from "eventloom/client";
import type { WorkflowServer } from "eventloom/server";
import express from "express";
import Fastify, { type FastifyInstance } from "fastify";
import { Hono } from "hono";
import { mount } from "hono/mount";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { packageDir, repoRoot } from "../cli/cli-process.js";
import { post, raw } from "../support/raw-http.js";
import { guideFileNames, NEXT_FILES, NODE_FILES, writeGuideFiles } from "./guide-files.js";

const run = promisify(execFile);
const BASE = "/api/workflows";

interface App {
  origin: string;
  close(): Promise<void>;
}

let scratch: string;
let dbDir: string;
let server: WorkflowServer;
const apps = new Map<string, App>();

const originOf = (http: Server) => `http://127.0.0.1:${(http.address() as AddressInfo).port}`;

async function listening(http: Server): Promise<App> {
  if (!http.listening) await once(http, "listening");
  return {
    origin: originOf(http),
    close: () => new Promise<void>((resolve) => http.close(() => resolve())),
  };
}

const fastifyApp = (app: FastifyInstance): App => ({
  origin: originOf(app.server),
  close: () => app.close(),
});

/** Imports one of the guide's files as the app would run it, on a free port. */
const load = (name: string) => import(pathToFileURL(join(scratch, name)).href);

beforeAll(async () => {
  dbDir = await mkdtemp(join(tmpdir(), "eventloom-embedding-"));
  // The guide's server takes its settings from the environment, as an app's would.
  process.env["PORT"] = "0";
  process.env["WORKFLOWS_DB"] = join(dbDir, "workflows.db");
  for (const name of ["WORKFLOWS_SERVER_TOKEN", "WORKFLOWS_ALLOWED_HOSTS", "WORKFLOWS_CORS_ORIGINS"]) {
    delete process.env[name];
  }
  scratch = await writeGuideFiles(NODE_FILES);
  ({ server } = (await load("workflows-server.ts")) as { server: WorkflowServer });
  apps.set("hono", await listening((await load("hono.ts")).listener));
  apps.set("express", await listening((await load("express.ts")).listener));
  apps.set("express-json-first", await listening((await load("express-json-first.ts")).listener));
  apps.set("fastify", fastifyApp((await load("fastify.ts")).app));
}, 60_000);

afterAll(async () => {
  // As the guide says: the workflow server first (it ends its streams), then the apps' servers.
  await server?.close();
  for (const app of apps.values()) await app.close();
  if (dbDir) await rm(dbDir, { recursive: true, force: true });
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

const clientFor = (app: App) => new WorkflowClient({ baseUrl: `${app.origin}${BASE}` });

async function handlerCount(app: App): Promise<number> {
  let count = 0;
  for await (const _ of clientFor(app).getHandlers()) count++;
  return count;
}

describe.each(["hono", "express", "express-json-first", "fastify"])("the guide's %s app", (name) => {
  const app = () => apps.get(name) as App;

  it("lists the workflows, runs one with the start event it was sent, and streams its events under /api/workflows", async () => {
    const client = clientFor(app());
    expect(await client.listWorkflows()).toEqual(["greet"]);
    const done = await client.runWorkflow("greet", { startEvent: { name: "Ada" } });
    expect(done.status).toBe("completed");
    expect(done.result).toBe("Hello, Ada!");
    const types: string[] = [];
    for await (const envelope of client.getWorkflowEvents(done.handlerId)) types.push(envelope.type);
    expect(types).toContain("StopEvent");
    // Started without waiting: the body reaches the server whole on this path too.
    const started = await client.runWorkflowNowait("greet", { startEvent: { name: "Grace" } });
    await expect.poll(async () => (await client.getResult(started.handlerId)).result).toBe("Hello, Grace!");
  });

  it("serves the debugger's page at /api/workflows/ and at /api/workflows, where it gets a <base>", async () => {
    const slash = await fetch(`${app().origin}${BASE}/`);
    expect(slash.status).toBe(200);
    expect(slash.headers.get("content-type")).toMatch(/^text\/html/);
    expect(await slash.text()).not.toContain("<base");
    const bare = await fetch(`${app().origin}${BASE}`, { redirect: "manual" });
    expect(bare.status).toBe(200);
    expect(await bare.text()).toContain('<base href="workflows/">');
  });

  it("refuses a body shorter than its Content-Length with a 400, and starts nothing", async () => {
    const before = await handlerCount(app());
    const port = Number(new URL(app().origin).port);
    const res = await raw(
      port,
      `POST ${BASE}/workflows/greet/run-nowait HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 50\r\n\r\n{"start_event":`,
      true,
    );
    expect(res.status).toBe(400);
    expect(await handlerCount(app())).toBe(before);
  });
});

describe("the app's own paths", () => {
  it("Hono: what is not under /api/workflows is the app's", async () => {
    const res = await fetch(`${apps.get("hono")?.origin}/`);
    expect(await res.text()).toBe("my app");
  });

  it("Express: the app's routes after the server still get their parsed bodies; other paths go to next()", async () => {
    const origin = apps.get("express")?.origin;
    const echo = await fetch(`${origin}/api/echo`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ hello: "world" }),
    });
    expect(await echo.json()).toEqual({ hello: "world" });
    const elsewhere = await fetch(`${apps.get("express-json-first")?.origin}/elsewhere`);
    expect(elsewhere.status).toBe(404);
    expect(await elsewhere.text()).toContain("Cannot GET /elsewhere"); // Express's, not the server's
  });

  it("Fastify: what is not under /api/workflows is Fastify's", async () => {
    const res = await fetch(`${apps.get("fastify")?.origin}/elsewhere`);
    expect(res.status).toBe(404);
    expect(((await res.json()) as { message: string }).message).toMatch(/Route GET:\/elsewhere not found/);
  });
});

describe("a body read before the server", () => {
  const extra: App[] = [];
  afterAll(async () => {
    for (const app of extra) await app.close();
  });

  async function expectRefused(app: App, chunked: boolean): Promise<void> {
    const before = await handlerCount(app);
    const body = JSON.stringify({ start_event: { name: "Ada" } });
    const res = await fetch(`${app.origin}${BASE}/workflows/greet/run-nowait`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      // A stream is sent chunked, without Content-Length.
      body: chunked ? new Blob([body]).stream() : body,
      ...(chunked ? { duplex: "half" } : {}),
    } as RequestInit);
    expect(res.status).toBe(400);
    const answer = (await res.json()) as { code: string; detail: string };
    expect(answer.code).toBe("INVALID_BODY");
    expect(answer.detail).toMatch(/read before it reached the server/);
    expect(await handlerCount(app)).toBe(before);
  }

  it("Express: a middleware that reads the body and leaves nothing: 400 INVALID_BODY, with or without Content-Length", async () => {
    const app = express();
    app.use((req, _res, next) => {
      req.on("data", () => {});
      req.on("end", () => next());
    });
    app.use(BASE, server.nodeHandler);
    const mounted = await listening(app.listen(0, "127.0.0.1"));
    extra.push(mounted);
    await expectRefused(mounted, false);
    await expectRefused(mounted, true);
  });

  it("Fastify with its own JSON parser in the server's scope: 400 INVALID_BODY, never an empty start event", async () => {
    const app = Fastify();
    app.all(`${BASE}/*`, (request, reply) => {
      reply.hijack();
      server.nodeHandler(request.raw, reply.raw);
    });
    await app.listen({ host: "127.0.0.1", port: 0 });
    const mounted = fastifyApp(app);
    extra.push(mounted);
    await expectRefused(mounted, false);
    await expectRefused(mounted, true);
  });

  it("Express with express.raw() in front: the bytes it left on req.body are read as JSON", async () => {
    const app = express();
    app.use(express.raw({ type: "application/json" }));
    app.use(BASE, server.nodeHandler);
    const mounted = await listening(app.listen(0, "127.0.0.1"));
    extra.push(mounted);
    const done = await clientFor(mounted).runWorkflow("greet", { startEvent: { name: "Lin" } });
    expect(done.result).toBe("Hello, Lin!");
    const port = Number(new URL(mounted.origin).port);
    const invalid = await raw(
      port,
      post(`${BASE}/workflows/greet/run`, "Host: 127.0.0.1\r\nContent-Type: application/json\r\n", "{nope"),
    );
    expect(invalid.status).toBe(400);
    expect(invalid.text).toContain('"code":"INVALID_JSON"');
  });
});

describe("Hono's mount() from hono/mount, as the guide's note gives it", () => {
  it("serves the API and the page at /api/workflows and /api/workflows/", async () => {
    const app = new Hono();
    app.all(`${BASE}/*`, mount(server.fetch, { replaceRequest: false }));
    const http = createAdaptorServer({ fetch: app.fetch }) as Server;
    http.listen(0, "127.0.0.1");
    const mounted = await listening(http);
    try {
      expect(await clientFor(mounted).listWorkflows()).toEqual(["greet"]);
      expect(await (await fetch(`${mounted.origin}${BASE}`)).text()).toContain('<base href="workflows/">');
      expect((await fetch(`${mounted.origin}${BASE}/`)).status).toBe(200);
    } finally {
      await mounted.close();
    }
  });
});

describe("the guide's files", () => {
  it("are each run by a test: this file's or nextjs.test.ts's", async () => {
    expect((await guideFileNames()).sort()).toEqual([...new Set([...NODE_FILES, ...NEXT_FILES])].sort());
  });

  it("type-check under strict TypeScript (Hono, Express, Fastify and the server module)", {
    timeout: 120_000,
  }, async () => {
    const src = (path: string) => join(packageDir, "src", path);
    await writeFile(
      join(scratch, "tsconfig.json"),
      JSON.stringify({
        extends: join(repoRoot, "tsconfig.base.json"),
        compilerOptions: {
          noEmit: true,
          skipLibCheck: true,
          paths: {
            eventloom: [src("core/index.ts")],
            "eventloom/server": [src("server/index.ts")],
          },
        },
        files: NODE_FILES,
      }),
    );
    const tsc = join(repoRoot, "node_modules", "typescript", "bin", "tsc");
    const errors = await run(process.execPath, [tsc, "-p", join(scratch, "tsconfig.json")]).then(
      () => "",
      (error: { stdout?: string }) => error.stdout ?? String(error),
    );
    expect(errors).toBe("");
  });
});
