// Protocol-level tests: the client against a real HTTP server on 127.0.0.1:0 that answers with
// canned bytes, for wire edge cases (malformed bodies, non-JSON errors, 202/500 answers, timeouts,
// aborts) that the real WorkflowServer does not produce on demand. The client against the real server
// is in client-integration.test.ts; the event stream's wire cases in event-stream-wire.test.ts.

import { defineEvent, HumanResponseEvent, StartEvent } from "eventloom";
import {
  ClientTimeoutError,
  WorkflowClient,
  WorkflowClientError,
  WorkflowNetworkError,
} from "eventloom/client";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { z } from "zod";
import { CannedServer, handlerData, json } from "./canned-server.js";

const ResponseEvent = defineEvent("ResponseEvent", z.object({ response: z.string() }), {
  extends: HumanResponseEvent,
});

let server: CannedServer;
beforeEach(async () => {
  server = await new CannedServer().start();
});
afterEach(async () => {
  await server.close();
});

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error("expected a rejection");
}

describe("requests", () => {
  it("keeps the base URL's path prefix, encodes path segments and sends the token and headers", async () => {
    server.handle((_req, res) => json(res, 200, handlerData()));
    const client = new WorkflowClient({
      baseUrl: `${server.baseUrl}/api/v1`,
      token: "s3cret",
      headers: { "x-trace": "abc" },
    });
    await client.getHandler("a/b c");
    const seen = server.requests[0]!;
    expect(seen.url.pathname).toBe("/api/v1/handlers/a%2Fb%20c");
    expect(seen.headers["authorization"]).toBe("Bearer s3cret");
    expect(seen.headers["x-trace"]).toBe("abc");
    expect(seen.headers["accept"]).toBe("application/json");
  });

  it("sends run bodies in snake_case with an event made by create as {type, qualified_name, value}", async () => {
    server.handle((_req, res) =>
      json(res, 200, {
        handler_id: "h1",
        status: "started",
        workflow_name: "greet",
        run_id: "r1",
        started_at: "2024-10-21T14:32:15.123Z",
      }),
    );
    const client = new WorkflowClient({ baseUrl: server.baseUrl });
    const started = await client.runWorkflowNowait("greet", {
      startEvent: StartEvent.create({ name: "John" }),
      context: { state: {} },
      handlerId: "mine",
    });
    expect(started).toEqual({
      handlerId: "h1",
      status: "started",
      workflowName: "greet",
      runId: "r1",
      startedAt: "2024-10-21T14:32:15.123Z",
    });
    const seen = server.requests[0]!;
    expect(seen.method).toBe("POST");
    expect(seen.url.pathname).toBe("/workflows/greet/run-nowait");
    expect(seen.headers["content-type"]).toBe("application/json");
    expect(JSON.parse(seen.body)).toEqual({
      start_event: {
        type: "StartEvent",
        qualified_name: "workflows.events.StartEvent",
        value: { name: "John" },
      },
      context: { state: {} },
      handler_id: "mine",
    });
  });

  it("sends a bare object of fields as the start event unchanged and an empty body when there is none", async () => {
    server.handle((_req, res) => json(res, 200, handlerData()));
    const client = new WorkflowClient({ baseUrl: server.baseUrl });
    await client.runWorkflow("greet", { startEvent: { name: "Ada" } });
    await client.runWorkflow("greet");
    expect(JSON.parse(server.requests[0]!.body)).toEqual({ start_event: { name: "Ada" } });
    expect(JSON.parse(server.requests[1]!.body)).toEqual({});
  });

  it("sends events made by create, raw forms and the step", async () => {
    server.handle((_req, res) => json(res, 200, { status: "sent" }));
    const client = new WorkflowClient({ baseUrl: server.baseUrl });
    expect(
      await client.sendEvent("h1", ResponseEvent.create({ response: "Ada" }), { step: "greet_human" }),
    ).toEqual({
      status: "sent",
    });
    await client.sendEvent("h1", { type: "ResponseEvent", data: { response: "Bo" } });
    expect(JSON.parse(server.requests[0]!.body)).toEqual({
      event: { type: "ResponseEvent", qualified_name: "ResponseEvent", value: { response: "Ada" } },
      step: "greet_human",
    });
    expect(JSON.parse(server.requests[1]!.body)).toEqual({
      event: { type: "ResponseEvent", data: { response: "Bo" } },
    });
  });

  it("follows next_cursor across pages and repeats the status filter", async () => {
    server.handle((req, res) => {
      const cursor = req.url.searchParams.get("cursor");
      if (cursor === null)
        json(res, 200, { handlers: [handlerData({ handler_id: "a" })], next_cursor: "c1" });
      else if (cursor === "c1")
        json(res, 200, { handlers: [handlerData({ handler_id: "b" })], next_cursor: "c2" });
      else json(res, 200, { handlers: [], next_cursor: null });
    });
    const client = new WorkflowClient({ baseUrl: server.baseUrl });
    const ids: string[] = [];
    for await (const h of client.getHandlers({
      status: ["running", "failed"],
      workflowName: "greet",
      limit: 1,
    })) {
      ids.push(h.handlerId);
    }
    expect(ids).toEqual(["a", "b"]);
    expect(server.requests).toHaveLength(3);
    const first = server.requests[0]!.url.searchParams;
    expect(first.getAll("status")).toEqual(["running", "failed"]);
    expect(first.getAll("workflow_name")).toEqual(["greet"]);
    expect(first.get("limit")).toBe("1");
    expect(server.requests[2]!.url.searchParams.get("cursor")).toBe("c2");
  });
});

describe("answers", () => {
  it("returns the running handler on 202 rather than throwing", async () => {
    server.handle((_req, res) =>
      json(res, 202, handlerData({ status: "running", result: null, completed_at: null })),
    );
    const handler = await new WorkflowClient({ baseUrl: server.baseUrl }).getResult("h1");
    expect(handler.status).toBe("running");
    expect(handler.completedAt).toBeNull();
  });

  it("returns a failed run's handler from run's 500 answer", async () => {
    server.handle((_req, res) =>
      json(res, 500, handlerData({ status: "failed", result: null, error: "Workflow timed out after 45s" })),
    );
    const handler = await new WorkflowClient({ baseUrl: server.baseUrl }).runWorkflow("greet");
    expect(handler).toMatchObject({ status: "failed", error: "Workflow timed out after 45s" });
  });

  it("turns an error body into a WorkflowClientError with status, code, detail and issues", async () => {
    const issues = [{ path: "start_event.name", message: "Required" }];
    server.handle((_req, res) =>
      json(res, 400, { detail: "Invalid start event", code: "VALIDATION_ERROR", issues }),
    );
    const error = await rejection(new WorkflowClient({ baseUrl: server.baseUrl }).runWorkflowNowait("greet"));
    expect(error).toBeInstanceOf(WorkflowClientError);
    expect(error).toMatchObject({
      status: 400,
      code: "VALIDATION_ERROR",
      detail: "Invalid start event",
      issues,
    });
  });

  it("turns a non-JSON error answer into HTTP_<status>", async () => {
    server.handle((_req, res) =>
      res.writeHead(502, { "content-type": "text/html" }).end("<h1>Bad gateway</h1>"),
    );
    const error = await rejection(new WorkflowClient({ baseUrl: server.baseUrl }).listWorkflows());
    expect(error).toMatchObject({ status: 502, code: "HTTP_502", detail: "<h1>Bad gateway</h1>" });
  });

  it("rejects a malformed success answer with INVALID_RESPONSE", async () => {
    server.handle((req, res) => {
      if (req.url.pathname === "/workflows") res.writeHead(200).end("{not json");
      else json(res, 200, { handler_id: 5 });
    });
    const client = new WorkflowClient({ baseUrl: server.baseUrl });
    expect(await rejection(client.listWorkflows())).toMatchObject({ code: "INVALID_RESPONSE", status: 200 });
    expect(await rejection(client.getHandler("h1"))).toMatchObject({
      code: "INVALID_RESPONSE",
      detail: expect.stringContaining(
        "does not fit the contract: handler_id: expected string, received number",
      ),
    });
  });

  it("reports health: true when healthy, UNHEALTHY on 503", async () => {
    let healthy = true;
    server.handle((_req, res) =>
      healthy ? json(res, 200, { status: "healthy" }) : json(res, 503, { status: "unhealthy" }),
    );
    const client = new WorkflowClient({ baseUrl: server.baseUrl });
    expect(await client.isHealthy()).toBe(true);
    healthy = false;
    expect(await rejection(client.isHealthy())).toMatchObject({ status: 503, code: "UNHEALTHY" });
  });
});

describe("failures", () => {
  it("throws WorkflowNetworkError when nothing listens", async () => {
    const gone = await new CannedServer().start();
    await gone.close();
    const error = await rejection(new WorkflowClient({ baseUrl: gone.baseUrl }).listWorkflows());
    expect(error).toBeInstanceOf(WorkflowNetworkError);
    expect((error as WorkflowNetworkError).cause).toBeDefined();
  });

  it("throws ClientTimeoutError when the server does not answer within timeoutMs", async () => {
    server.handle(() => {});
    const error = await rejection(
      new WorkflowClient({ baseUrl: server.baseUrl, timeoutMs: 50 }).listWorkflows(),
    );
    expect(error).toBeInstanceOf(ClientTimeoutError);
    expect(error).toMatchObject({ timeoutMs: 50 });
  });

  it("rejects with the signal's reason when the caller aborts", async () => {
    server.handle(() => {});
    const controller = new AbortController();
    const pending = new WorkflowClient({ baseUrl: server.baseUrl }).listWorkflows({
      signal: controller.signal,
    });
    await server.received(1);
    const reason = new Error("user gave up");
    controller.abort(reason);
    expect(await rejection(pending)).toBe(reason);
  });
});
