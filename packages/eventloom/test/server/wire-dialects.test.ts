// The two wire dialects (docs/decisions/0010): `seed` (docs/HTTP-API.md, the default) and
// `llama-agents` (what LlamaIndex's current clients validate), chosen by the server (`wire`,
// WORKFLOWS_WIRE) and per request (`X-Workflows-Wire`). The pipeline shapes handler records for both
// ways in, so every test runs over a real socket (serve()) and through server.fetch alike.
import { MemoryStore, WorkflowServer, type WorkflowServerOptions } from "eventloom/server";
import { afterEach, describe, expect, it } from "vitest";
import { add, failing, fork, greeting, human, waiting } from "./fixtures.js";
import { until } from "./helpers.js";

type Json = Record<string, unknown>;
interface Reply {
  status: number;
  body: Json;
  headers: Headers;
}
type Call = (
  method: string,
  path: string,
  body?: unknown,
  headers?: Record<string, string>,
) => Promise<Reply>;

const servers: WorkflowServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

const STOP = "workflows.events.StopEvent";

async function start(sink: "socket" | "fetch", options: WorkflowServerOptions = {}): Promise<Call> {
  const server = new WorkflowServer({ store: new MemoryStore(), token: "", ...options });
  server
    .addWorkflow("greet", greeting)
    .addWorkflow("human", human)
    .addWorkflow("add", add)
    .addWorkflow("failing", failing)
    .addWorkflow("fork", fork)
    .addWorkflow("waiting", waiting);
  servers.push(server);
  const base =
    sink === "socket" ? (await server.serve({ host: "127.0.0.1", port: 0 })).url : "http://localhost";
  return async (method, path, body, headers = {}) => {
    const init: RequestInit = { method, headers: { ...headers } };
    if (body !== undefined) {
      init.body = JSON.stringify(body);
      (init.headers as Record<string, string>)["content-type"] = "application/json";
    }
    const res =
      sink === "socket"
        ? await fetch(`${base}${path}`, init)
        : await server.fetch(new Request(`${base}${path}`, init));
    const text = await res.text();
    return { status: res.status, body: (text ? JSON.parse(text) : null) as Json, headers: res.headers };
  };
}

const LLAMA = { "X-Workflows-Wire": "llama-agents" };
const SEED = { "X-Workflows-Wire": "seed" };

describe.each(["socket", "fetch"] as const)("wire dialects (%s)", (sink) => {
  it("answers run-nowait with the whole handler record, status running, in llama-agents", async () => {
    const call = await start(sink, { wire: "llama-agents" });
    const started = await call("POST", "/workflows/waiting/run-nowait", {});
    expect(started.status).toBe(200);
    expect(started.body).toEqual({
      handler_id: expect.any(String),
      workflow_name: "waiting",
      run_id: expect.any(String),
      status: "running",
      result: null,
      error: null,
      started_at: expect.any(String),
      updated_at: expect.any(String),
      completed_at: null,
    });
    expect(started.headers.get("x-workflows-wire")).toBe("llama-agents");
    expect(started.headers.get("vary")).toBe("X-Workflows-Wire");
    // The seed's answer, for a request that asks for it.
    const seed = await call("POST", "/workflows/waiting/run-nowait", {}, SEED);
    expect(seed.body).toEqual({
      handler_id: expect.any(String),
      status: "started",
      workflow_name: "waiting",
      run_id: expect.any(String),
      started_at: expect.any(String),
    });
    expect(seed.headers.get("x-workflows-wire")).toBe("seed");
  });

  it("gives a plain StopEvent's envelope as result on run, /handlers and /handlers/{id}; /results stays bare", async () => {
    const call = await start(sink, { wire: "llama-agents" });
    const envelope = {
      value: { result: "Hello, Ada!" },
      qualified_name: STOP,
      type: "StopEvent",
      types: ["workflows.events.Event", STOP],
    };
    const ran = await call("POST", "/workflows/greet/run", { start_event: { name: "Ada" } });
    expect(ran).toMatchObject({ status: 200, body: { status: "completed", result: envelope } });
    const id = ran.body["handler_id"] as string;
    expect((await call("GET", `/handlers/${id}`)).body["result"]).toEqual(envelope);
    const list = await call("GET", "/handlers?workflow_name=greet");
    expect((list.body["handlers"] as Json[]).map((h) => h["result"])).toEqual([envelope]);
    const bare = await call("GET", `/results/${id}`);
    expect(bare).toMatchObject({ status: 200, body: { result: "Hello, Ada!" } });
    // The seed's shapes for the same handler.
    expect((await call("GET", `/handlers/${id}`, undefined, SEED)).body["result"]).toBe("Hello, Ada!");
  });

  it("gives a custom stop event's envelope, read from the stream when a workflow has several", async () => {
    const call = await start(sink, { wire: "llama-agents" });
    const ran = await call("POST", "/workflows/fork/run", { start_event: { right: true } });
    const right = {
      value: { right: 1 },
      qualified_name: "Right",
      type: "Right",
      types: ["workflows.events.Event", STOP, "Right"],
    };
    expect(ran.body["result"]).toEqual(right);
    const id = ran.body["handler_id"] as string;
    // No longer in memory: the handler's last stored event tells which of the two ended it.
    expect((await call("GET", `/handlers/${id}`)).body["result"]).toEqual(right);
    expect((await call("GET", `/results/${id}`)).body["result"]).toEqual({ right: 1 });
    const human = await call("POST", "/workflows/human/run-nowait", {});
    const hid = human.body["handler_id"] as string;
    const sent = await call("POST", `/events/${hid}`, {
      event: { type: "ResponseEvent", value: { response: "Ada" } },
    });
    expect(sent.body).toEqual({ status: "sent" });
    await until(async () => (await call("GET", `/handlers/${hid}`)).status === 200);
    expect((await call("GET", `/handlers/${hid}`)).body["result"]).toEqual({
      value: { output: "Hello, Ada" },
      qualified_name: "OutEvent",
      type: "OutEvent",
      types: ["workflows.events.Event", STOP, "OutEvent"],
    });
  });

  it("answers lookups as LlamaIndex's server does: 202 running, 500 failed or cancelled; the seed 200", async () => {
    const call = await start(sink, { wire: "llama-agents" });
    const running = await call("POST", "/workflows/waiting/run-nowait", {});
    const id = running.body["handler_id"] as string;
    expect((await call("GET", `/handlers/${id}`)).status).toBe(202);
    expect((await call("GET", `/results/${id}`)).status).toBe(202);
    expect((await call("GET", `/handlers/${id}`, undefined, SEED)).status).toBe(200);
    expect((await call("POST", `/handlers/${id}/cancel`)).body).toEqual({ status: "cancelled" });
    const cancelled = await call("GET", `/handlers/${id}`);
    expect(cancelled).toMatchObject({ status: 500, body: { status: "cancelled", result: null } });
    const failed = await call("POST", "/workflows/failing/run", {});
    expect(failed).toMatchObject({
      status: 500,
      body: { status: "failed", error: expect.stringContaining("boom"), result: null },
    });
    const fid = failed.body["handler_id"] as string;
    expect((await call("GET", `/handlers/${fid}`)).status).toBe(500);
    expect((await call("GET", `/results/${fid}`)).status).toBe(500);
    expect((await call("GET", `/results/${fid}`, undefined, SEED)).status).toBe(200);
  });

  it("lists every handler unpaged in llama-agents unless limit or cursor is given", async () => {
    const call = await start(sink);
    const count = 105;
    for (let i = 0; i < count; i++) await call("POST", "/workflows/add/run", { start_event: { a: i, b: 1 } });
    const seed = await call("GET", "/handlers?workflow_name=add");
    expect((seed.body["handlers"] as Json[]).length).toBe(100);
    expect(seed.body["next_cursor"]).toEqual(expect.any(String));
    const all = await call("GET", "/handlers?status=&workflow_name=", undefined, LLAMA);
    const handlers = all.body["handlers"] as Json[];
    expect(handlers.length).toBe(count);
    expect(all.body["next_cursor"]).toBeNull();
    expect(new Set(handlers.map((h) => h["handler_id"])).size).toBe(count);
    expect(handlers.map((h) => (h["result"] as Json)["value"])).toContainEqual({ result: 1 + 104 });
    const page = await call("GET", "/handlers?limit=10", undefined, LLAMA);
    expect((page.body["handlers"] as Json[]).length).toBe(10);
    const next = await call("GET", `/handlers?cursor=${page.body["next_cursor"]}`, undefined, LLAMA);
    expect((next.body["handlers"] as Json[]).length).toBe(count - 10);
  });

  it("lets a request choose its dialect over the server's; a header that names none is a 400", async () => {
    const call = await start(sink);
    const llama = await call(
      "POST",
      "/workflows/add/run",
      { start_event: { a: 1, b: 2 } },
      { "X-Workflows-Wire": " Llama-Agents " },
    );
    expect(llama.body["result"]).toMatchObject({ value: { result: 3 }, type: "StopEvent" });
    const seed = await call("POST", "/workflows/add/run", { start_event: { a: 1, b: 2 } });
    expect(seed.body["result"]).toBe(3);
    const bad = await call("GET", "/handlers", undefined, { "X-Workflows-Wire": "llama" });
    expect(bad.status).toBe(400);
    expect(bad.body).toEqual({
      detail: 'Invalid X-Workflows-Wire "llama": Expected one of seed, llama-agents',
      code: "INVALID_HEADER",
      issues: [{ path: "X-Workflows-Wire", message: "Expected one of seed, llama-agents" }],
    });
    // Routes whose answers do not depend on the dialect do not read the header.
    expect((await call("GET", "/workflows", undefined, { "X-Workflows-Wire": "llama" })).status).toBe(200);
  });
});

describe("the server's dialect", () => {
  it("comes from WORKFLOWS_WIRE unless the wire option is given; a value that names none throws", async () => {
    const saved = process.env["WORKFLOWS_WIRE"];
    try {
      process.env["WORKFLOWS_WIRE"] = "llama-agents";
      const fromEnv = await start("fetch");
      expect((await fromEnv("POST", "/workflows/waiting/run-nowait", {})).body["status"]).toBe("running");
      const fromOption = await start("fetch", { wire: "seed" });
      expect((await fromOption("POST", "/workflows/waiting/run-nowait", {})).body["status"]).toBe("started");
      process.env["WORKFLOWS_WIRE"] = "llamaindex";
      expect(() => new WorkflowServer({ store: new MemoryStore() })).toThrow(
        'WORKFLOWS_WIRE must be one of seed, llama-agents, got "llamaindex"',
      );
      expect(() => new WorkflowServer({ store: new MemoryStore(), wire: "v2" as never })).toThrow(
        'The wire option must be one of seed, llama-agents, got "v2"',
      );
      process.env["WORKFLOWS_WIRE"] = "";
      expect((await (await start("fetch"))("POST", "/workflows/waiting/run-nowait", {})).body["status"]).toBe(
        "started",
      );
    } finally {
      if (saved === undefined) delete process.env["WORKFLOWS_WIRE"];
      else process.env["WORKFLOWS_WIRE"] = saved;
    }
  });

  it("lets a page of an allowed origin choose its dialect (preflight) and keeps Vary: Origin", async () => {
    const call = await start("socket", { corsOrigins: ["http://app.test"] });
    const preflight = await call("OPTIONS", "/handlers", undefined, {
      origin: "http://app.test",
      "access-control-request-method": "GET",
      "access-control-request-headers": "x-workflows-wire",
    });
    expect(preflight.headers.get("access-control-allow-headers")).toContain("X-Workflows-Wire");
    const answer = await call("GET", "/handlers", undefined, { origin: "http://app.test", ...LLAMA });
    expect(answer.headers.get("vary")).toBe("X-Workflows-Wire, Origin");
    expect(answer.headers.get("access-control-allow-origin")).toBe("http://app.test");
  });
});
