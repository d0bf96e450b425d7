// What an app that mounts the server relies on: start() without a request, basePath, and the node
// handler's next().
import { writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { StartEvent, StopEvent, Workflow, WorkflowError } from "eventloom";
import { MemoryStore, SqliteStore, WorkflowServer } from "eventloom/server";
import { afterEach, describe, expect, test } from "vitest";
import { greeting } from "./fixtures.js";
import { call, makeServer, tempDir } from "./helpers.js";

const servers: WorkflowServer[] = [];
const cleanups: (() => void | Promise<void>)[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close();
  for (const c of cleanups.splice(0)) await c();
});

function track<T extends WorkflowServer>(server: T): T {
  servers.push(server);
  return server;
}

function dbFile(): string {
  const { dir, remove } = tempDir();
  cleanups.push(remove);
  return join(dir, "workflows.db");
}

describe("server.start()", () => {
  test("resumes a stored running run at once: its step runs and it completes with no request made", async () => {
    const path = dbFile();
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    let runs = 0;
    const work = (blocking: boolean) =>
      new Workflow({ name: "Work", timeout: null }).step(
        "work",
        { accepts: [StartEvent], emits: [StopEvent] },
        async () => {
          runs++;
          if (blocking) await gate;
          return StopEvent.create({ result: "done" });
        },
      );
    // A run left `running` in the file: its step was in flight when its server closed.
    const first = track(new WorkflowServer({ store: new SqliteStore(path), token: "" }));
    first.addWorkflow("job", work(true));
    const started = await call(first, "POST", "/workflows/job/run-nowait");
    const { handler_id: id } = (await started.json()) as { handler_id: string };
    await expect.poll(() => runs).toBe(1);
    await first.close();
    release();

    const store = new SqliteStore(path);
    const second = track(new WorkflowServer({ store, token: "" }));
    second.addWorkflow("job", work(false));
    expect(second.liveRunCount).toBe(0);
    await second.start();
    // Read from the server's own store object: no HTTP request reaches the server.
    await expect.poll(async () => (await store.getHandler(id))?.status).toBe("completed");
    expect(runs).toBe(2);
  });

  test("is idempotent and is what serve() starts with: one store opened, one resume", async () => {
    let inits = 0;
    const store = new MemoryStore();
    const init = store.init.bind(store);
    store.init = async () => {
      inits++;
      await init();
    };
    const server = track(makeServer({ store }));
    await Promise.all([server.start(), server.start()]);
    await server.start();
    await server.serve({ host: "127.0.0.1", port: 0 });
    expect(inits).toBe(1);
  });

  test("rejects with STORE_UNAVAILABLE (the store's error as cause) when the store cannot open, and SERVER_CLOSING once closed", async () => {
    const { dir, remove } = tempDir();
    cleanups.push(remove);
    const file = join(dir, "a-file");
    writeFileSync(file, "");
    const broken = track(new WorkflowServer({ store: new SqliteStore(join(file, "workflows.db")) }));
    const error = await broken.start().then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(WorkflowError);
    expect(error).toMatchObject({ code: "STORE_UNAVAILABLE" });
    expect((error as Error).cause).toBeInstanceOf(Error);

    const closed = track(makeServer());
    await closed.close();
    await expect(closed.start()).rejects.toMatchObject({ code: "SERVER_CLOSING" });
  });
});

describe("basePath", () => {
  const at = (basePath: string, uiDir?: string) => {
    const server = track(makeServer(uiDir === undefined ? { basePath } : { basePath, uiDir }));
    return server;
  };

  test("the API answers under it; a path outside it is a 404 that says where the server is", async () => {
    const server = at("/api/workflows");
    expect(await (await call(server, "GET", "/api/workflows/workflows")).json()).toMatchObject({
      workflows: expect.arrayContaining(["greet"]),
    });
    const run = await call(server, "POST", "/api/workflows/workflows/greet/run", {
      start_event: { name: "Ada" },
    });
    expect(run.status).toBe(200);
    for (const outside of ["/workflows", "/api/workflowsX/workflows", "/api", "/"]) {
      const res = await call(server, "GET", outside);
      expect(res.status, outside).toBe(404);
      const body = (await res.json()) as { code: string; detail: string };
      expect(body.code).toBe("NOT_FOUND");
      expect(body.detail).toContain("this server answers under /api/workflows");
    }
    // 404 and 405 under it name the whole path.
    const missing = (await (await call(server, "GET", "/api/workflows/nope/x")).json()) as { detail: string };
    expect(missing.detail).toBe("No route for GET /api/workflows/nope/x");
    const wrong = await call(server, "DELETE", "/api/workflows/workflows");
    expect(wrong.status).toBe(405);
  });

  test("the page asked for without the trailing slash gets a <base> that points under it; with it, none", async () => {
    const { dir, remove } = tempDir();
    cleanups.push(remove);
    writeFileSync(
      join(dir, "index.html"),
      '<!doctype html><html><head><script type="module" src="./assets/app.js"></script></head></html>',
    );
    const server = at("/api/workflows/", dir); // a trailing slash in the option is the same base
    const bare = await call(server, "GET", "/api/workflows");
    expect(bare.status).toBe(200);
    expect(bare.headers.get("content-security-policy")).toContain("base-uri 'self'");
    expect(await bare.text()).toBe(
      '<!doctype html><html><head><base href="workflows/"><script type="module" src="./assets/app.js"></script></head></html>',
    );
    const slash = await call(server, "GET", "/api/workflows/?x=1");
    expect(await slash.text()).not.toContain("<base");
    const head = await call(server, "HEAD", "/api/workflows");
    expect(head.status).toBe(200);
    expect(await head.text()).toBe("");
  });

  test("without the debugger's build, its placeholder page links the API relative to the base", async () => {
    const { dir, remove } = tempDir();
    cleanups.push(remove);
    const server = at("/tools/flows", dir);
    const text = await (await call(server, "GET", "/tools/flows")).text();
    expect(text).toContain('<base href="flows/">');
    expect(text).toContain('href="openapi.json"');
  });

  test("/openapi.json names the base path as its server; one without a base path names none", async () => {
    const under = await call(at("/api/workflows"), "GET", "/api/workflows/openapi.json");
    expect(((await under.json()) as { servers?: unknown }).servers).toEqual([{ url: "/api/workflows" }]);
    const plain = await call(at(""), "GET", "/openapi.json");
    expect((await plain.json()) as object).not.toHaveProperty("servers");
  });

  test("serve() answers under it and its url includes it", async () => {
    const server = at("/api/workflows");
    const { url } = await server.serve({ host: "127.0.0.1", port: 0 });
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/api\/workflows$/);
    expect((await fetch(`${url}/health`)).status).toBe(200);
    expect((await fetch(`${new URL(url).origin}/health`)).status).toBe(404);
  });

  test.each(["api/workflows", "/api/../x", "/api/./x", "/api workflows", "/api/%2e", "/api?x", "/api#x"])(
    "refuses %j at construction",
    (basePath) => {
      expect(() => new WorkflowServer({ store: new MemoryStore(), basePath })).toThrow(
        /basePath must be an absolute path/,
      );
    },
  );

  test('"" and "/" are no base path', async () => {
    for (const basePath of ["", "/"]) {
      const server = at(basePath);
      expect((await call(server, "GET", "/workflows")).status, basePath).toBe(200);
    }
  });
});

describe("server.nodeHandler", () => {
  async function listen(server: WorkflowServer): Promise<{ origin: string; http: Server }> {
    const http = createServer((req, res) =>
      server.nodeHandler(req, res, () => {
        res.writeHead(200, { "content-type": "text/plain" });
        res.end("the app's own");
      }),
    );
    await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
    cleanups.push(() => new Promise<void>((resolve) => http.close(() => resolve())));
    return { origin: `http://127.0.0.1:${(http.address() as AddressInfo).port}`, http };
  }

  test("with a next, leaves a path outside the base path to it and answers the paths under it", async () => {
    const server = track(new WorkflowServer({ store: new MemoryStore(), token: "", basePath: "/wf" }));
    server.addWorkflow("greet", greeting);
    const { origin } = await listen(server);
    expect(await (await fetch(`${origin}/elsewhere`)).text()).toBe("the app's own");
    expect(await (await fetch(`${origin}/wfx`)).text()).toBe("the app's own");
    expect(await (await fetch(`${origin}/wf/workflows`)).json()).toEqual({ workflows: ["greet"] });
  });
});
