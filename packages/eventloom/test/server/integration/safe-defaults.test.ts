import { MemoryStore, type WorkflowServer, type WorkflowServerOptions } from "eventloom/server";
import { afterEach, describe, expect, test } from "vitest";
import { post, raw } from "../../support/raw-http.js";
import { makeServer, until } from "../helpers.js";

// Round 2 §3 and §4 over a real socket: what a server on a developer's machine refuses by default.

let server: WorkflowServer;
afterEach(async () => server?.close());

async function start(options: WorkflowServerOptions = {}): Promise<number> {
  server = makeServer(options);
  return (await server.serve({ host: "127.0.0.1", port: 0 })).port;
}

describe("Host check (DNS rebinding)", () => {
  test("a Host that is not localhost, an IP literal or an allowed name is a 403 HOST_NOT_ALLOWED, on API and UI", async () => {
    const port = await start();
    for (const path of ["/workflows", "/", "/health"]) {
      const res = await raw(
        port,
        `GET ${path} HTTP/1.1\r\nHost: evil.example:${port}\r\nConnection: close\r\n\r\n`,
      );
      expect(res.status, path).toBe(403);
      expect(res.text).toContain('"code":"HOST_NOT_ALLOWED"');
    }
    for (const host of [
      "localhost",
      `localhost:${port}`,
      "app.localhost",
      `127.0.0.1:${port}`,
      `[::1]:${port}`,
      "10.1.2.3",
    ]) {
      const res = await raw(port, `GET /workflows HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`);
      expect(res.status, host).toBe(200);
    }
  });

  test("allowedHosts opens a name, and * any", async () => {
    let port = await start({ allowedHosts: ["Box.Lan"] });
    expect(
      (await raw(port, "GET /workflows HTTP/1.1\r\nHost: box.lan:80\r\nConnection: close\r\n\r\n")).status,
    ).toBe(200);
    expect(
      (await raw(port, "GET /workflows HTTP/1.1\r\nHost: other.lan\r\nConnection: close\r\n\r\n")).status,
    ).toBe(403);
    await server.close();
    port = await start({ allowedHosts: ["*"] });
    expect(
      (await raw(port, "GET /workflows HTTP/1.1\r\nHost: other.lan\r\nConnection: close\r\n\r\n")).status,
    ).toBe(200);
  });

  test("server.fetch gets the same check", async () => {
    server = makeServer();
    const res = await server.fetch(new Request("http://rebound.example/workflows"));
    expect(res.status).toBe(403);
    expect(((await res.json()) as { code: string }).code).toBe("HOST_NOT_ALLOWED");
  });
});

describe("Content-Type of a POST", () => {
  test("a body sent as text/plain or a form is a 415 UNSUPPORTED_MEDIA_TYPE and starts nothing", async () => {
    const store = new MemoryStore();
    const port = await start({ store });
    for (const type of [
      "text/plain",
      "application/x-www-form-urlencoded",
      "multipart/form-data; boundary=x",
    ]) {
      const res = await raw(
        port,
        post(
          "/workflows/greet/run-nowait",
          `Host: localhost\r\nContent-Type: ${type}\r\n`,
          '{"start_event":{}}',
        ),
      );
      expect(res.status, type).toBe(415);
      expect(res.text).toContain('"code":"UNSUPPORTED_MEDIA_TYPE"');
    }
    expect((await store.listHandlers({ limit: 10 })).handlers).toHaveLength(0);
  });

  test("application/json with a charset is accepted; no Content-Type is accepted only without a body", async () => {
    const port = await start();
    const typed = await raw(
      port,
      post(
        "/workflows/greet/run-nowait",
        "Host: localhost\r\nContent-Type: Application/JSON; charset=utf-8\r\n",
        "{}",
      ),
    );
    expect(typed.status).toBe(200);
    const bare = await raw(port, post("/workflows/greet/run-nowait", "Host: localhost\r\n"));
    expect(bare.status).toBe(200);
    const untyped = await raw(port, post("/workflows/greet/run-nowait", "Host: localhost\r\n", "{}"));
    expect(untyped.status).toBe(415);
    // A page of another origin cannot post without a type either (no preflight would stop it).
    const crossSite = await raw(
      port,
      post("/workflows/greet/run-nowait", "Host: localhost\r\nOrigin: http://evil.example\r\n"),
    );
    expect(crossSite.status).toBe(415);
  });

  test("a body shorter than its Content-Length is a 400, never an empty body", async () => {
    const store = new MemoryStore();
    const port = await start({ store });
    const res = await raw(
      port,
      "POST /workflows/greet/run-nowait HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 50\r\n\r\n{}",
      true,
    );
    expect(res.status).toBe(400);
    // A Request handed to server.fetch by a framework may declare more than it carries.
    const short = await server.fetch(
      new Request("http://localhost/workflows/greet/run-nowait", {
        method: "POST",
        headers: { "content-type": "application/json", "content-length": "50" },
        body: "{}",
      }),
    );
    expect(short.status).toBe(400);
    expect((await store.listHandlers({ limit: 10 })).handlers).toHaveLength(0);
  });
});

describe("headers", () => {
  test("JSON, SSE and NDJSON answers carry nosniff; the debugger's page a CSP of its own origin, not framable", async () => {
    const port = await start();
    const base = `http://127.0.0.1:${port}`;
    expect((await fetch(`${base}/workflows`)).headers.get("x-content-type-options")).toBe("nosniff");
    const { handler_id } = (await (
      await fetch(`${base}/workflows/waiting/run-nowait`, { method: "POST" })
    ).json()) as { handler_id: string };
    for (const query of ["", "?sse=false"]) {
      const stream = await fetch(`${base}/events/${handler_id}${query}`);
      expect(stream.headers.get("x-content-type-options"), query).toBe("nosniff");
      await stream.body?.cancel();
    }
    const page = await fetch(`${base}/`);
    const csp = page.headers.get("content-security-policy") ?? "";
    expect(csp).toContain("default-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toContain("unsafe-inline");
  });
});

describe("request bodies (§3)", () => {
  test("__proto__, constructor and prototype keys are a 400 FORBIDDEN_KEY at any depth, the same everywhere", async () => {
    const port = await start();
    const bodies = [
      '{"start_event":{"__proto__":{"x":1}}}',
      '{"start_event":{"name":"a","deep":{"__proto__":{"x":1}}}}',
      '{"constructor":{"prototype":{"x":1}}}',
      '{"start_event":{"name":[{"prototype":1}]}}',
    ];
    for (const body of bodies) {
      const res = await raw(
        port,
        post("/workflows/greet/run", "Host: localhost\r\nContent-Type: application/json\r\n", body),
      );
      expect(res.status, body).toBe(400);
      expect(res.text).toContain('"code":"FORBIDDEN_KEY"');
    }
    const event = '{"event":{"type":"ResponseEvent","value":{"__proto__":{}}}}';
    const sent = await raw(
      port,
      post("/events/none", "Host: localhost\r\nContent-Type: application/json\r\n", event),
    );
    expect(sent.text).toContain('"code":"FORBIDDEN_KEY"');
  });

  test("a context is refused unless the server accepts contexts: 400 CONTEXT_NOT_ACCEPTED", async () => {
    server = makeServer();
    const res = await server.fetch(
      new Request("http://localhost/workflows/human/run-nowait", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ context: forged({ deadline: null }) }),
      }),
    );
    expect(res.status).toBe(400);
    expect(((await res.json()) as { code: string }).code).toBe("CONTEXT_NOT_ACCEPTED");
  });

  test("an accepted context cannot lift the deadline and its events must fit their schemas", async () => {
    const store = new MemoryStore();
    server = makeServer({ store, acceptContext: true });
    const send = (context: unknown) =>
      server.fetch(
        new Request("http://localhost/workflows/human/run-nowait", {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ context }),
        }),
      );
    const before = Date.now();
    for (const deadline of [null, before + 10 * 365 * 86_400_000]) {
      const res = await send(forged({ deadline }));
      expect(res.status).toBe(200);
      const { handler_id } = (await res.json()) as { handler_id: string };
      let state: { deadline: number | null } | null = null;
      await until(async () => {
        state = await store.loadState(handler_id);
        return state !== null;
      });
      // human's timeout is 1000 s: the deadline is no later than now + 1000 s.
      expect(state!.deadline).not.toBeNull();
      expect(state!.deadline!).toBeLessThanOrEqual(Date.now() + 1_000_000);
    }
    const bad = forged({ deadline: null });
    (bad["unclaimed"] as unknown[]).push({
      type: "ResponseEvent",
      qualifiedName: "ResponseEvent",
      data: { response: 7 },
    });
    const res = await send(bad);
    expect(res.status).toBe(400);
    const body = (await res.json()) as { code: string; issues: { path: string }[] };
    expect(body.code).toBe("VALIDATION_ERROR");
    expect(body.issues[0]?.path).toMatch(/^context\.unclaimed\.0\.data/);
  });
});

describe("warning line", () => {
  test("serving on a non-loopback address without a token warns once, through the logger", async () => {
    const warnings: string[] = [];
    server = makeServer();
    await server.serve({
      host: "0.0.0.0",
      port: 0,
      logger: { info() {}, error() {}, warn: (m) => warnings.push(m) },
    });
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/open to the network/);
    expect(warnings[0]).toContain("WORKFLOWS_SERVER_TOKEN");
    await server.close();
    warnings.length = 0;
    server = makeServer({ token: "secret" });
    await server.serve({
      host: "0.0.0.0",
      port: 0,
      logger: { info() {}, error() {}, warn: (m) => warnings.push(m) },
    });
    await server.close();
    server = makeServer();
    await server.serve({
      host: "127.0.0.1",
      port: 0,
      logger: { info() {}, error() {}, warn: (m) => warnings.push(m) },
    });
    expect(warnings).toHaveLength(0);
  });
});

/** A serialized running state of the `human` workflow with nothing to do, and `overrides`. */
function forged(overrides: Record<string, unknown>): Record<string, unknown> {
  return {
    version: 1,
    workflowName: "HumanInTheLoopWorkflow",
    runId: "forged",
    status: "running",
    startedAt: Date.now(),
    deadline: null,
    nextSequence: 0,
    nextItemId: 0,
    queues: {},
    inFlight: {},
    retries: {},
    collected: {},
    waiters: {},
    unclaimed: [],
    store: {},
    idle: false,
    outcome: null,
    ...overrides,
  };
}
