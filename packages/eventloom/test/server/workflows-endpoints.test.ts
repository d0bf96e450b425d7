import { afterEach, describe, expect, test } from "vitest";
import { call, callJson, makeServer } from "./helpers.js";

let server: ReturnType<typeof makeServer>;
afterEach(async () => server?.close());

interface HandlerData {
  handler_id: string;
  workflow_name: string;
  run_id: string;
  status: string;
  result: unknown;
  error: string | null;
  started_at: string;
  updated_at: string;
  completed_at: string | null;
}

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

describe("GET /health and /workflows", () => {
  test("health answers healthy once the store is ready", async () => {
    server = makeServer();
    const res = await callJson(server, "GET", "/health");
    expect(res).toMatchObject({ status: 200, body: { status: "healthy" } });
  });

  test("health turns 503 unhealthy once close() began", async () => {
    server = makeServer();
    await callJson(server, "GET", "/health");
    const closing = server.close();
    const res = await callJson(server, "GET", "/health");
    expect(res).toMatchObject({ status: 503, body: { status: "unhealthy" } });
    await closing;
  });

  test("lists workflows in registration order", async () => {
    server = makeServer();
    const res = await callJson(server, "GET", "/workflows");
    expect(res.body).toEqual({
      workflows: ["greet", "human", "add", "failing", "counter", "approval", "waiting", "fork"],
    });
  });
});

describe("POST /workflows/{name}/run", () => {
  test("runs to the end and answers the completed HandlerData", async () => {
    server = makeServer();
    const res = await callJson<HandlerData>(server, "POST", "/workflows/greet/run", {
      start_event: { name: "Ada" },
    });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      workflow_name: "greet",
      status: "completed",
      result: "Hello, Ada!",
      error: null,
    });
    expect(res.body.handler_id.length).toBeGreaterThanOrEqual(16);
    expect(res.body.started_at).toMatch(ISO);
    expect(res.body.completed_at).toMatch(ISO);
  });

  test("an empty body, {} and a missing body all start the default start event", async () => {
    server = makeServer();
    for (const body of [undefined, {}, ""]) {
      const res = await callJson<HandlerData>(server, "POST", "/workflows/greet/run", body);
      expect(res.body.result).toBe("Hello, World!");
    }
  });

  test("accepts the start event in each incoming form, also as a JSON string", async () => {
    server = makeServer();
    const forms = [
      { a: 1, b: 2 },
      { type: "AddStart", value: { a: 1, b: 2 } },
      { type: "AddStart", data: { a: 1, b: 2 } },
      { __is_pydantic: true, value: { a: 1, b: 2 }, qualified_name: "__main__.AddStart" },
      JSON.stringify({ type: "AddStart", value: { a: 1, b: 2 } }),
    ];
    for (const start_event of forms) {
      const res = await callJson<HandlerData>(server, "POST", "/workflows/add/run", { start_event });
      expect(res.status, JSON.stringify(start_event)).toBe(200);
      expect(res.body.result).toBe(3);
    }
  });

  test("kwargs (LlamaIndex's form) are the start event's fields when start_event is missing", async () => {
    server = makeServer();
    const ran = await callJson<HandlerData>(server, "POST", "/workflows/add/run", { kwargs: { a: 1, b: 2 } });
    expect(ran.status).toBe(200);
    expect(ran.body.result).toBe(3);
    const empty = await callJson<HandlerData>(server, "POST", "/workflows/add/run", {
      start_event: { a: 2, b: 2 },
      kwargs: {},
    });
    expect(empty.body.result).toBe(4);
    const wrong = await callJson(server, "POST", "/workflows/add/run", { kwargs: { a: "x", b: 2 } });
    expect(wrong.status).toBe(400);
    expect((wrong.body["issues"] as { path: string }[])[0]?.path).toBe("kwargs.a");
  });

  test("both a start_event and kwargs is a 400 that starts nothing", async () => {
    server = makeServer();
    const res = await callJson(server, "POST", "/workflows/add/run-nowait", {
      start_event: { a: 1, b: 2 },
      kwargs: { a: 5, b: 5 },
    });
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ code: "INVALID_BODY", issues: [{ path: "kwargs" }] });
    const list = await callJson<{ handlers: unknown[] }>(server, "GET", "/handlers");
    expect(list.body.handlers).toHaveLength(0);
  });

  test("a custom stop event's fields are the result", async () => {
    server = makeServer();
    const res = await callJson<HandlerData>(server, "POST", "/workflows/fork/run", {});
    expect(res.body.result).toEqual({ left: "l" });
  });

  test("wrong start event fields are a 400 with issues", async () => {
    server = makeServer();
    const res = await callJson(server, "POST", "/workflows/add/run", { start_event: { a: "x", b: 2 } });
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ code: "VALIDATION_ERROR" });
    expect((res.body["issues"] as { path: string }[])[0]?.path).toBe("start_event.a");
  });

  test("a start event of another type is a 400", async () => {
    server = makeServer();
    const res = await callJson(server, "POST", "/workflows/human/run", {
      start_event: { type: "ResponseEvent", value: { response: "x" } },
    });
    expect(res.status).toBe(400);
    expect(res.body["code"]).toBe("INVALID_BODY");
  });

  test("wrong body types are a 400 INVALID_BODY", async () => {
    server = makeServer();
    for (const body of [[], 42, '"text"', { context: 5 }, { start_event: 5 }]) {
      const res = await callJson(server, "POST", "/workflows/greet/run", body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body["code"]).toBe("INVALID_BODY");
    }
  });

  test("malformed JSON is a 400 INVALID_JSON", async () => {
    server = makeServer();
    const res = await callJson(server, "POST", "/workflows/greet/run", "{not json");
    expect(res).toMatchObject({ status: 400, body: { code: "INVALID_JSON" } });
  });

  test("a malformed context is a 400 INVALID_CONTEXT", async () => {
    server = makeServer({ acceptContext: true });
    const res = await callJson(server, "POST", "/workflows/greet/run", { context: { version: 7 } });
    expect(res).toMatchObject({ status: 400, body: { code: "INVALID_CONTEXT" } });
  });

  test("an invalid handler id is a 400 INVALID_HANDLER_ID", async () => {
    server = makeServer();
    for (const handler_id of ["has space", "a/b", "x".repeat(129), "é"]) {
      const res = await callJson(server, "POST", "/workflows/greet/run", { handler_id });
      expect(res.status, handler_id).toBe(400);
      expect(res.body["code"]).toBe("INVALID_HANDLER_ID");
    }
  });

  test("an unknown workflow is a 404", async () => {
    server = makeServer();
    const res = await callJson(server, "POST", "/workflows/nope/run", {});
    expect(res).toMatchObject({ status: 404, body: { code: "WORKFLOW_NOT_FOUND" } });
  });

  test("a failed run answers 500 with the failed HandlerData and its error", async () => {
    server = makeServer();
    const res = await callJson<HandlerData>(server, "POST", "/workflows/failing/run", {});
    expect(res.status).toBe(500);
    expect(res.body).toMatchObject({
      status: "failed",
      error: 'Step "explode" failed after 1 attempt(s): Error: boom',
      result: null,
    });
    expect(res.body.completed_at).toMatch(ISO);
  });

  test("an unknown handler id is used as the new handler's id", async () => {
    server = makeServer();
    const res = await callJson<HandlerData>(server, "POST", "/workflows/greet/run", {
      handler_id: "my-id_1.x",
    });
    expect(res.body.handler_id).toBe("my-id_1.x");
  });

  test("continuing an ended handler starts a new run with its state, sequences going on", async () => {
    server = makeServer();
    const first = await callJson<HandlerData>(server, "POST", "/workflows/counter/run", { handler_id: "c1" });
    expect(first.body.result).toBe(1);
    const second = await callJson<HandlerData>(server, "POST", "/workflows/counter/run", {
      handler_id: "c1",
    });
    expect(second.body.result).toBe(2);
    expect(second.body.handler_id).toBe("c1");
    expect(second.body.run_id).not.toBe(first.body.run_id);
    const events = await call(server, "GET", "/events/c1?sse=false&include_internal=true");
    const sequences = (await events.text())
      .trim()
      .split("\n")
      .map((l) => (JSON.parse(l) as { sequence: number }).sequence);
    expect(sequences).toEqual(sequences.map((_, i) => i));
  });

  test("continuing a running handler is a 409 HANDLER_RUNNING", async () => {
    server = makeServer();
    await callJson(server, "POST", "/workflows/waiting/run-nowait", { handler_id: "busy" });
    const res = await callJson(server, "POST", "/workflows/waiting/run-nowait", { handler_id: "busy" });
    expect(res).toMatchObject({ status: 409, body: { code: "HANDLER_RUNNING" } });
  });

  test("concurrent starts with the same new id: one wins, the other gets 409", async () => {
    server = makeServer();
    const answers = await Promise.all(
      [1, 2, 3].map(() => callJson(server, "POST", "/workflows/waiting/run-nowait", { handler_id: "same" })),
    );
    expect(answers.map((a) => a.status).sort()).toEqual([200, 409, 409]);
  });
});

describe("POST /workflows/{name}/run-nowait", () => {
  test("answers started with the handler recorded as running before the answer", async () => {
    server = makeServer();
    const res = await callJson<Record<string, string>>(server, "POST", "/workflows/human/run-nowait", {});
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ status: "started", workflow_name: "human" });
    expect(res.body["run_id"]).toBeTruthy();
    expect(res.body["started_at"]).toMatch(ISO);
    const result = await callJson<HandlerData>(server, "GET", `/results/${res.body["handler_id"]}`);
    expect(result.status).toBe(202);
    expect(result.body.status).toBe("running");
  });

  test("404 for an unknown workflow and 400 for a bad body", async () => {
    server = makeServer();
    expect((await callJson(server, "POST", "/workflows/nope/run-nowait", {})).status).toBe(404);
    expect(
      (await callJson(server, "POST", "/workflows/add/run-nowait", { start_event: { a: 1 } })).status,
    ).toBe(400);
  });
});

describe("schemas and graph", () => {
  test("schema gives the start and stop events' JSON Schemas", async () => {
    server = makeServer();
    const res = await callJson<{ start: Record<string, unknown>; stop: Record<string, unknown> }>(
      server,
      "GET",
      "/workflows/add/schema",
    );
    expect(res.body.start).toMatchObject({ title: "AddStart", type: "object", required: ["a", "b"] });
    expect(res.body.stop).toMatchObject({ title: "StopEvent" });
  });

  test("several stop events give an anyOf", async () => {
    server = makeServer();
    const res = await callJson<{ stop: { anyOf: { title: string }[] } }>(
      server,
      "GET",
      "/workflows/fork/schema",
    );
    expect(res.body.stop.anyOf.map((s) => s.title)).toEqual(["Left", "Right"]);
  });

  test("events lists declared and additional events, titled by type", async () => {
    server = makeServer();
    const res = await callJson<{ events: { title: string }[] }>(server, "GET", "/workflows/approval/events");
    expect(res.body.events.map((e) => e.title)).toEqual([
      "StartEvent",
      "StopEvent",
      "AskApproval",
      "Approval",
    ]);
  });

  test("representation has steps, events, and the external step for input-required events", async () => {
    server = makeServer();
    const res = await callJson<{
      graph: { name: string; nodes: Record<string, unknown>[]; edges: { source: string; target: string }[] };
    }>(server, "GET", "/workflows/human/representation");
    const { graph } = res.body;
    expect(graph.name).toBe("human");
    expect(graph.nodes).toContainEqual({ id: "prompt_human", label: "prompt_human", node_type: "step" });
    expect(graph.nodes).toContainEqual({
      id: "external_step",
      label: "external_step",
      node_type: "external",
    });
    const request = graph.nodes.find((n) => n["id"] === "RequestEvent");
    expect(request).toMatchObject({
      node_type: "event",
      event_type: "RequestEvent",
      event_types: ["workflows.events.Event", "workflows.events.InputRequiredEvent", "RequestEvent"],
    });
    expect(request?.["event_schema"]).toMatchObject({ type: "object" });
    expect(graph.edges).toEqual(
      expect.arrayContaining([
        { source: "workflows.events.StartEvent", target: "prompt_human" },
        { source: "prompt_human", target: "RequestEvent" },
        { source: "RequestEvent", target: "external_step" },
        { source: "external_step", target: "ResponseEvent" },
        { source: "ResponseEvent", target: "greet_human" },
        { source: "greet_human", target: "OutEvent" },
      ]),
    );
  });

  test("schema, events and representation of an unknown workflow are 404", async () => {
    server = makeServer();
    for (const what of ["schema", "events", "representation"]) {
      expect((await callJson(server, "GET", `/workflows/nope/${what}`)).status).toBe(404);
    }
  });

  test("/openapi.json is an OpenAPI 3.1 document", async () => {
    server = makeServer();
    const res = await callJson<{ openapi: string; paths: Record<string, unknown> }>(
      server,
      "GET",
      "/openapi.json",
    );
    expect(res.body.openapi).toBe("3.1.0");
    expect(Object.keys(res.body.paths).length).toBeGreaterThan(5);
  });
});
