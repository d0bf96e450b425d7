// serve() answers POST /workflows/{name}/run and run-nowait with its own node listener instead of the
// hono app (node-listener.ts). These tests send the same requests both ways, to `server.fetch` (the
// app) and over a real socket (the node path), and require the same answers.
import { request as httpRequest } from "node:http";
import { afterEach, describe, expect, test } from "vitest";
import type { WorkflowServer } from "workflows/server";
import { callJson, makeServer } from "./helpers.js";

let server: WorkflowServer | undefined;
afterEach(async () => server?.close());

interface Answer {
  status: number;
  headers: Record<string, string | undefined>;
  body: unknown;
}

/** One request over the socket, with exactly the headers given (no content-type added). */
function send(
  base: string,
  method: string,
  path: string,
  body?: string,
  headers: Record<string, string> = {},
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(`${base}${path}`, { method, headers, agent: false }, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => {
        text += chunk;
      });
      res.on("end", () =>
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers as Record<string, string | undefined>,
          body: text ? (JSON.parse(text) as unknown) : null,
        }),
      );
    });
    req.on("error", reject);
    req.end(body);
  });
}

/** Ids, run ids and timestamps differ from run to run: replaced by their kind. */
function normalize(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(normalize);
  if (value === null || typeof value !== "object") return value;
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) {
    out[key] = typeof v === "string" && /(_id|_at)$/.test(key) ? `<${key}>` : normalize(v);
  }
  return out;
}

const JSON_HEADERS = { "content-type": "application/json" };

async function both(
  path: string,
  body: string | undefined,
  headers: Record<string, string> = JSON_HEADERS,
): Promise<{ app: Answer; node: Answer }> {
  const s = server as WorkflowServer;
  const { url } = await served;
  const viaApp = await callJson(s, "POST", path, body, headers);
  const viaNode = await send(url, "POST", path, body, headers);
  return {
    app: { status: viaApp.status, headers: Object.fromEntries(viaApp.headers), body: viaApp.body },
    node: viaNode,
  };
}

let served: Promise<{ url: string }>;
function start(options: Parameters<typeof makeServer>[0] = {}): void {
  server = makeServer(options);
  served = server.serve({ host: "127.0.0.1", port: 0 });
}

describe("serve(): starting runs through the node listener answers as the app does", () => {
  test.each([
    ["a sync run", "/workflows/add/run", JSON.stringify({ start_event: { a: 2, b: 3 } })],
    ["a sync run that fails (500)", "/workflows/failing/run", "{}"],
    ["run-nowait", "/workflows/add/run-nowait", JSON.stringify({ start_event: { a: 1, b: 1 } })],
    ["an empty body", "/workflows/counter/run", undefined],
    ["a body of white space", "/workflows/counter/run", "  \n"],
    [
      "a query string, which is ignored",
      "/workflows/add/run?x=1",
      JSON.stringify({ start_event: { a: 1, b: 2 } }),
    ],
    ["a percent-encoded name", "/workflows/%61dd/run", JSON.stringify({ start_event: { a: 1, b: 2 } })],
    ["malformed JSON (400)", "/workflows/add/run", "{nope"],
    ["a JSON string for a body (422)", "/workflows/add/run", '"run"'],
    ["a body that is not an object (422)", "/workflows/add/run", "[1,2]"],
    [
      "a start event of the wrong types (422)",
      "/workflows/add/run",
      JSON.stringify({ start_event: { a: "x" } }),
    ],
    [
      "a start event of an unknown type (422)",
      "/workflows/add/run",
      JSON.stringify({ start_event: { type: "Nope" } }),
    ],
    ["an unknown workflow (404)", "/workflows/nope/run", "{}"],
    ["an unknown workflow, run-nowait (404)", "/workflows/nope/run-nowait", "{}"],
    ["a trailing slash (not a route)", "/workflows/add/run/", "{}"],
  ])("%s", async (_label, path, body) => {
    start();
    const { app, node } = await both(path, body);
    expect(node.status).toBe(app.status);
    expect(normalize(node.body)).toEqual(normalize(app.body));
    expect(node.headers["content-type"]).toBe(app.headers["content-type"]);
  });

  test("a declared body over the limit: 413, before it is read", async () => {
    start({ bodyLimitBytes: 64 });
    const body = JSON.stringify({ start_event: { a: 1, b: 2 }, context: { pad: "x".repeat(100) } });
    const { app, node } = await both("/workflows/add/run", body);
    expect([node.status, app.status]).toEqual([413, 413]);
    expect(node.body).toEqual(app.body);
    expect(node.body).toMatchObject({ code: "PAYLOAD_TOO_LARGE" });
  });

  test("the bearer token: 401 with WWW-Authenticate without it, a run with it", async () => {
    start({ token: "s3cret" });
    const body = JSON.stringify({ start_event: { a: 1, b: 2 } });
    for (const headers of [JSON_HEADERS, { ...JSON_HEADERS, authorization: "Bearer wrong" }]) {
      const { app, node } = await both("/workflows/add/run", body, headers);
      expect([node.status, app.status]).toEqual([401, 401]);
      expect(node.body).toEqual(app.body);
      expect(node.headers["www-authenticate"]).toBe(app.headers["www-authenticate"]);
    }
    const ok = await both("/workflows/add/run", body, { ...JSON_HEADERS, authorization: "Bearer s3cret" });
    expect([ok.node.status, ok.app.status]).toEqual([200, 200]);
    expect(ok.node.body).toMatchObject({ status: "completed", result: 3 });
  });

  test("CORS: an allowed origin is echoed with Vary, another gets no header", async () => {
    start({ corsOrigins: ["https://app.example"] });
    const body = JSON.stringify({ start_event: { a: 1, b: 2 } });
    const allowed = await both("/workflows/add/run", body, {
      ...JSON_HEADERS,
      origin: "https://app.example",
    });
    expect(allowed.node.headers["access-control-allow-origin"]).toBe("https://app.example");
    expect(allowed.node.headers["vary"]).toMatch(/origin/i);
    expect(allowed.app.headers["access-control-allow-origin"]).toBe("https://app.example");
    const other = await both("/workflows/add/run", body, { ...JSON_HEADERS, origin: "https://evil.example" });
    expect(other.node.headers["access-control-allow-origin"]).toBeUndefined();
    expect(other.app.headers["access-control-allow-origin"]).toBeUndefined();
  });

  test("other methods and routes still go to the app (405, OPTIONS preflight, GET)", async () => {
    start();
    const { url } = await served;
    const get = await send(url, "GET", "/workflows/add/run");
    expect(get.status).toBe(405);
    expect(get.headers["allow"]).toBe("POST");
    const preflight = await send(url, "OPTIONS", "/workflows/add/run", undefined, {
      origin: "https://app.example",
      "access-control-request-method": "POST",
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers["access-control-allow-methods"]).toContain("POST");
    expect((await send(url, "GET", "/workflows")).body).toMatchObject({ workflows: expect.any(Array) });
  });

  test("concurrent runs of one workflow each get their own handler and answer", async () => {
    start();
    const { url } = await served;
    const answers = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        send(
          url,
          "POST",
          "/workflows/add/run",
          JSON.stringify({ start_event: { a: i, b: 1 } }),
          JSON_HEADERS,
        ),
      ),
    );
    expect(answers.map((a) => a.status)).toEqual(answers.map(() => 200));
    expect(answers.map((a) => (a.body as { result: number }).result)).toEqual(answers.map((_, i) => i + 1));
    expect(new Set(answers.map((a) => (a.body as { handler_id: string }).handler_id)).size).toBe(50);
  });

  test("concurrent continuations of one handler: each runs after the last or is refused with 409", async () => {
    start();
    const { url } = await served;
    const first = await send(url, "POST", "/workflows/counter/run", "{}", JSON_HEADERS);
    const handlerId = (first.body as { handler_id: string }).handler_id;
    const body = JSON.stringify({ handler_id: handlerId });
    const answers = await Promise.all(
      Array.from({ length: 10 }, () => send(url, "POST", "/workflows/counter/run", body, JSON_HEADERS)),
    );
    const ok = answers.filter((a) => a.status === 200);
    expect(ok.length).toBeGreaterThanOrEqual(1);
    for (const a of answers.filter((x) => x.status !== 200)) {
      expect(a.status).toBe(409);
      expect(a.body).toMatchObject({ code: "HANDLER_RUNNING", detail: expect.any(String) });
    }
    // Every continuation that ran added one to the count it carried.
    const results = ok.map((a) => (a.body as { result: number }).result).sort((x, y) => x - y);
    expect(results).toEqual(results.map((_, i) => i + 2));
  });
});
