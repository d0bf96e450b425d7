// One pipeline answers every request (src/server/http/pipeline.ts); serve() writes its answers to
// node's response (node-sink.ts), server.fetch makes web Responses of them (web-sink.ts). These tests
// send the same requests both ways, to `server.fetch` and over a real socket, and require the same
// answers: each kind of answer (JSON, bytes, none, a stream), the headers the pipeline adds, and what
// only a sink does (reading the body, decoding the path, a slow reader's backpressure).
import { request as httpRequest, ServerResponse } from "node:http";
import { defineEvent, StartEvent, StopEvent, Workflow } from "eventloom";
import type { WorkflowServer } from "eventloom/server";
import { afterEach, describe, expect, test, vi } from "vitest";
import { z } from "zod";
import { callJson, makeServer, until } from "./helpers.js";

const BLOBS = 4096;
const Blob = defineEvent("Blob", z.object({ i: z.number(), pad: z.string() }));
/** Writes BLOBS events of 4 KiB each (16 MiB), then stops. */
const blobs = new Workflow({ name: "Blobs", timeout: null }).step(
  "emit",
  { accepts: [StartEvent], emits: [StopEvent] },
  async (ctx) => {
    const pad = "x".repeat(4096);
    for (let i = 0; i < BLOBS; i++) {
      ctx.writeEventToStream(Blob.create({ i, pad }));
      if (i % 256 === 255) await new Promise((r) => setImmediate(r));
    }
    return StopEvent.create({ result: BLOBS });
  },
);

/** Counts the times a node stream waited for its socket to drain (a slow reader), from now on. */
function countDrainWaits(): () => number {
  let count = 0;
  const original = ServerResponse.prototype.write;
  const spy = vi.spyOn(ServerResponse.prototype, "write").mockImplementation(function (
    this: ServerResponse,
    ...args: Parameters<ServerResponse["write"]>
  ) {
    const ok = original.apply(this, args);
    if (!ok) count++;
    return ok;
  });
  return () => {
    spy.mockRestore();
    return count;
  };
}

let server: WorkflowServer | undefined;
afterEach(async () => server?.close());

interface Answer {
  status: number;
  headers: Record<string, string | undefined>;
  body: unknown;
}

/** One request over the socket, with exactly the headers given (no content-type added): its body as text. */
function requestText(
  base: string,
  method: string,
  path: string,
  body?: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: Record<string, string | undefined>; text: string }> {
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
          text,
        }),
      );
    });
    req.on("error", reject);
    req.end(body);
  });
}

/** One request over the socket, its JSON answer parsed. */
async function send(
  base: string,
  method: string,
  path: string,
  body?: string,
  headers: Record<string, string> = {},
): Promise<Answer> {
  const { status, headers: answerHeaders, text } = await requestText(base, method, path, body, headers);
  return { status, headers: answerHeaders, body: text ? (JSON.parse(text) as unknown) : null };
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

describe("starting runs: serve() and server.fetch give the same answers", () => {
  test.each([
    ["a sync run", "/workflows/add/run", JSON.stringify({ start_event: { a: 2, b: 3 } })],
    ["a sync run that fails (500)", "/workflows/failing/run", "{}"],
    ["run-nowait", "/workflows/add/run-nowait", JSON.stringify({ start_event: { a: 1, b: 1 } })],
    ["an empty body", "/workflows/counter/run", undefined],
    [
      "a query string, which is ignored",
      "/workflows/add/run?x=1",
      JSON.stringify({ start_event: { a: 1, b: 2 } }),
    ],
    ["a percent-encoded name", "/workflows/%61dd/run", JSON.stringify({ start_event: { a: 1, b: 2 } })],
    ["malformed JSON (400)", "/workflows/add/run", "{nope"],
    ["an unknown workflow (404)", "/workflows/nope/run", "{}"],
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

  test("405 with Allow, a preflight, and a GET route answer over the socket", async () => {
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

describe("answers without a JSON body: serve() and server.fetch give the same status and headers", () => {
  test.each([
    ["the OpenAPI text", "GET", "/openapi.json", {}],
    ["HEAD of a JSON route: its headers, no body", "HEAD", "/health", {}],
    ["an unknown API path (404)", "GET", "/workflows/add/nope", {}],
    ["the debugger's page", "GET", "/", {}],
    ["a preflight (204)", "OPTIONS", "/workflows/add/run", { origin: "https://app.example" }],
  ] as const)("%s", async (_label, method, path, headers) => {
    start({ corsOrigins: ["https://app.example"] });
    const { url } = await served;
    const viaApp = await (server as WorkflowServer).fetch(
      new Request(`http://localhost${path}`, { method, headers }),
    );
    const appText = await viaApp.text();
    const viaNode = await requestText(url, method, path, undefined, headers);
    expect(viaNode.status).toBe(viaApp.status);
    expect(viaNode.text).toBe(appText);
    for (const name of [
      "content-type",
      "cache-control",
      "access-control-allow-origin",
      "access-control-allow-methods",
    ]) {
      expect(viaNode.headers[name], name).toBe(viaApp.headers.get(name) ?? undefined);
    }
  });
});

/** A GET over the socket, its whole body as text. */
const getText = (base: string, path: string, headers: Record<string, string> = {}) =>
  requestText(base, "GET", path, undefined, headers);

describe("event streams: serve() and server.fetch give the same answers", () => {
  async function endedGreeting(): Promise<string> {
    const s = server as WorkflowServer;
    const run = await callJson<{ handler_id: string }>(s, "POST", "/workflows/add/run", {
      start_event: { a: 1, b: 2 },
    });
    return run.body.handler_id;
  }

  test.each([
    ["SSE", ""],
    ["NDJSON", "?sse=false"],
    [
      "NDJSON with internal events and qualified names",
      "?sse=false&include_internal=true&include_qualified_name=true",
    ],
    ["SSE after a cursor", "?include_internal=true&after_sequence=1"],
    ["after_sequence=now on an ended run (204)", "?after_sequence=now"],
    ["a cursor past the end (204)", "?after_sequence=99"],
    ["a malformed cursor (400)", "?after_sequence=x"],
  ])("%s", async (_label, query) => {
    start();
    const { url } = await served;
    const id = await endedGreeting();
    const viaApp = await (server as WorkflowServer).fetch(
      new Request(`http://localhost/events/${id}${query}`),
    );
    const appText = await viaApp.text();
    const viaNode = await getText(url, `/events/${id}${query}`);
    expect(viaNode.status).toBe(viaApp.status);
    expect(viaNode.text).toBe(appText);
    expect(viaNode.headers["content-type"]).toBe(viaApp.headers.get("content-type") ?? undefined);
    expect(viaNode.headers["cache-control"]).toBe(viaApp.headers.get("cache-control") ?? undefined);
  });

  test("Last-Event-ID: resumes after it, and a malformed one is a 400 with issues", async () => {
    start();
    const { url } = await served;
    const id = await endedGreeting();
    for (const lastEventId of ["1", "x"]) {
      const headers = { "last-event-id": lastEventId };
      const viaApp = await (server as WorkflowServer).fetch(
        new Request(`http://localhost/events/${id}?include_internal=true`, { headers }),
      );
      const viaNode = await getText(url, `/events/${id}?include_internal=true`, headers);
      expect(viaNode.status).toBe(viaApp.status);
      expect(viaNode.text).toBe(await viaApp.text());
    }
  });

  test("an unknown handler is a 404, a missing token a 401, and an allowed origin gets CORS", async () => {
    start({ token: "s3cret", corsOrigins: ["https://app.example"] });
    const { url } = await served;
    const unknown = await getText(url, "/events/nope", { authorization: "Bearer s3cret" });
    expect(unknown.status).toBe(404);
    expect(JSON.parse(unknown.text)).toMatchObject({ code: "HANDLER_NOT_FOUND" });
    const denied = await getText(url, "/events/nope", { origin: "https://app.example" });
    expect(denied.status).toBe(401);
    expect(denied.headers["www-authenticate"]).toBe('Bearer realm="eventloom"');
    expect(denied.headers["access-control-allow-origin"]).toBe("https://app.example");
  });

  test("a reader that stops reading holds the stream back and then gets every event in order", async () => {
    start();
    const s = server as WorkflowServer;
    s.addWorkflow("blobs", blobs);
    const { url } = await served;
    const run = await callJson<{ handler_id: string }>(s, "POST", "/workflows/blobs/run-nowait", {});
    const id = run.body.handler_id;
    const drains = countDrainWaits();
    const lines = await new Promise<string[]>((resolve, reject) => {
      const req = httpRequest(`${url}/events/${id}?sse=false`, { agent: false }, (res) => {
        res.pause();
        void (async () => {
          // Nobody reads while the run writes 16 MiB of events: more than the socket's buffers hold.
          await until(async () => (await callJson(s, "GET", `/results/${id}`)).status !== 202, {
            what: "the run's end",
          });
          let text = "";
          res.setEncoding("utf8");
          res.on("data", (chunk: string) => {
            text += chunk;
          });
          res.on("end", () => resolve(text.split("\n").filter((l) => l !== "")));
          res.resume();
        })().catch(reject);
      });
      req.on("error", reject);
      req.end();
    });
    const events = lines.map((l) => JSON.parse(l) as { type: string; value: { i?: number; pad?: string } });
    const blobsSeen = events.filter((e) => e.type === "Blob");
    expect(blobsSeen.map((e) => e.value.i)).toEqual(Array.from({ length: BLOBS }, (_, i) => i));
    expect(blobsSeen.every((e) => e.value.pad?.length === 4096)).toBe(true);
    expect(events.at(-1)?.type).toBe("StopEvent");
    expect(drains()).toBeGreaterThan(0);
  }, 60_000);
});
