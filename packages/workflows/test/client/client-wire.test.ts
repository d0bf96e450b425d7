// Protocol-level tests: the client against a real HTTP server on 127.0.0.1:0 that answers with
// canned bytes, for wire edge cases (malformed bodies, sockets cut mid-stream, 204, replays) that the
// real WorkflowServer does not produce on demand. The client against the real server is in
// client-integration.test.ts.
import { once } from "node:events";
import fc from "fast-check";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { defineEvent, HumanResponseEvent, StartEvent } from "workflows";
import {
  ClientTimeoutError,
  type EventEnvelope,
  WorkflowClient,
  WorkflowClientError,
  WorkflowNetworkError,
} from "workflows/client";
import { z } from "zod";
import { CannedServer, envelope, handlerData, json, sseFrame } from "./canned-server.js";

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

async function collect(iterable: AsyncIterable<EventEnvelope>): Promise<EventEnvelope[]> {
  const out: EventEnvelope[] = [];
  for await (const e of iterable) out.push(e);
  return out;
}

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
    expect(await rejection(client.getHandler("h1"))).toMatchObject({ code: "INVALID_RESPONSE" });
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

describe("event stream", () => {
  it("ends at once on 204", async () => {
    server.handle((_req, res) => res.writeHead(204).end());
    const events = await collect(new WorkflowClient({ baseUrl: server.baseUrl }).getWorkflowEvents("h1"));
    expect(events).toEqual([]);
    const query = server.requests[0]!.url.searchParams;
    expect(query.get("after_sequence")).toBe("-1");
    expect(query.get("sse")).toBe("true");
    expect(server.requests[0]!.headers["accept"]).toBe("text/event-stream");
  });

  it("ends after the terminal event even when the server keeps the stream open", async () => {
    server.handle((_req, res) => {
      res.writeHead(200, { "content-type": "text/event-stream" });
      res.write(
        `: ping\n\n${sseFrame(envelope(0))}${sseFrame(envelope(1, "StopEvent", { result: "done" }))}`,
      );
    });
    const events = await collect(new WorkflowClient({ baseUrl: server.baseUrl }).getWorkflowEvents("h1"));
    expect(events.map((e) => e.sequence)).toEqual([0, 1]);
    expect(events[1]).toEqual({
      type: "StopEvent",
      value: { result: "done" },
      types: ["workflows.events.Event", "workflows.events.StopEvent"],
      sequence: 1,
      qualifiedName: "workflows.events.StopEvent",
    });
  });

  it("reconnects from the last sequence after the socket is cut mid-frame, without repeats or gaps", async () => {
    server.handle((req, res) => {
      res.writeHead(200, { "content-type": "text/event-stream" });
      const after = Number(req.url.searchParams.get("after_sequence"));
      if (server.requests.length === 1) {
        // two whole frames, then half of the third, then the socket dies
        const bytes = `${sseFrame(envelope(0))}${sseFrame(envelope(1))}id: 2\ndata: {"val`;
        res.write(bytes, () => res.socket?.destroy());
        return;
      }
      // the second connection replays from 0 regardless: the client must skip what it has seen
      const frames = [0, 1, 2, 3].filter((s) => s >= 0 && s > after - 5).map((s) => sseFrame(envelope(s)));
      res.end(frames.join("") + sseFrame(envelope(4, "StopEvent", { result: 1 })));
    });
    const client = new WorkflowClient({ baseUrl: server.baseUrl });
    const events = await collect(client.getWorkflowEvents("h1", { reconnectDelayMs: 1 }));
    expect(events.map((e) => e.sequence)).toEqual([0, 1, 2, 3, 4]);
    expect(server.requests).toHaveLength(2);
    expect(server.requests[1]!.url.searchParams.get("after_sequence")).toBe("1");
  });

  it("reconnects an NDJSON stream cut inside a line and drops the cut line", async () => {
    server.handle((req, res) => {
      res.writeHead(200, { "content-type": "application/x-ndjson" });
      const after = Number(req.url.searchParams.get("after_sequence"));
      const line = (e: object) => `${JSON.stringify(e)}\n`;
      if (after === -1) {
        res.write(line(envelope(0)) + JSON.stringify(envelope(1)).slice(0, 20), () => res.socket?.destroy());
        return;
      }
      // the last line has no line break: whole, so it counts
      res.end(line(envelope(1)) + JSON.stringify(envelope(2, "StopEvent", { result: 2 })));
    });
    const client = new WorkflowClient({ baseUrl: server.baseUrl });
    const events = await collect(client.getWorkflowEvents("h1", { sse: false, reconnectDelayMs: 1 }));
    expect(events.map((e) => e.sequence)).toEqual([0, 1, 2]);
    expect(server.requests[0]!.headers["accept"]).toBe("application/x-ndjson");
    expect(server.requests[1]!.url.searchParams.get("after_sequence")).toBe("0");
  });

  it("passes its options as the query", async () => {
    server.handle((_req, res) => res.writeHead(204).end());
    const client = new WorkflowClient({ baseUrl: server.baseUrl });
    await collect(
      client.getWorkflowEvents("h1", {
        includeInternal: true,
        includeQualifiedName: false,
        afterSequence: "now",
      }),
    );
    const query = server.requests[0]!.url.searchParams;
    expect([
      query.get("include_internal"),
      query.get("include_qualified_name"),
      query.get("after_sequence"),
    ]).toEqual(["true", "false", "now"]);
  });

  it("gives up with WorkflowNetworkError after maxReconnects attempts without progress", async () => {
    server.handle((_req, res) => {
      res.writeHead(200, { "content-type": "text/event-stream" }).end(": nothing here\n\n");
    });
    const client = new WorkflowClient({ baseUrl: server.baseUrl });
    const error = await rejection(
      collect(client.getWorkflowEvents("h1", { maxReconnects: 3, reconnectDelayMs: 1 })),
    );
    expect(error).toBeInstanceOf(WorkflowNetworkError);
    expect(server.requests).toHaveLength(4);
  });

  it("resets its reconnection budget after progress", async () => {
    // each connection brings one new event and then drops: more drops than maxReconnects, all fine
    server.handle((req, res) => {
      const next = Number(req.url.searchParams.get("after_sequence")) + 1;
      res.writeHead(200, { "content-type": "text/event-stream" });
      res.end(sseFrame(next === 5 ? envelope(5, "StopEvent", { result: null }) : envelope(next)));
    });
    const client = new WorkflowClient({ baseUrl: server.baseUrl });
    const events = await collect(client.getWorkflowEvents("h1", { maxReconnects: 1, reconnectDelayMs: 1 }));
    expect(events.map((e) => e.sequence)).toEqual([0, 1, 2, 3, 4, 5]);
  });

  it("does not reconnect on a 404 and throws its error", async () => {
    server.handle((_req, res) => json(res, 404, { detail: "Handler not found", code: "HANDLER_NOT_FOUND" }));
    const error = await rejection(
      collect(new WorkflowClient({ baseUrl: server.baseUrl }).getWorkflowEvents("nope")),
    );
    expect(error).toMatchObject({ status: 404, code: "HANDLER_NOT_FOUND" });
    expect(server.requests).toHaveLength(1);
  });

  it("throws INVALID_RESPONSE for an event that is not an envelope", async () => {
    server.handle((_req, res) => {
      res.writeHead(200, { "content-type": "text/event-stream" }).end('data: {"hello":"world"}\n\n');
    });
    const error = await rejection(
      collect(new WorkflowClient({ baseUrl: server.baseUrl }).getWorkflowEvents("h1")),
    );
    expect(error).toMatchObject({ code: "INVALID_RESPONSE" });
  });

  it("closes the connection when the loop is left early", async () => {
    let closed: Promise<unknown> = Promise.resolve();
    server.handle((_req, res) => {
      closed = once(res, "close");
      res.writeHead(200, { "content-type": "text/event-stream" });
      res.write(sseFrame(envelope(0)));
    });
    for await (const event of new WorkflowClient({ baseUrl: server.baseUrl }).getWorkflowEvents("h1")) {
      expect(event.sequence).toBe(0);
      break;
    }
    await closed;
  });

  it("stops with the signal's reason when aborted mid-stream", async () => {
    server.handle((_req, res) => {
      res.writeHead(200, { "content-type": "text/event-stream" });
      res.write(sseFrame(envelope(0)));
    });
    const controller = new AbortController();
    const seen: number[] = [];
    const reason = new Error("stop");
    const error = await rejection(
      (async () => {
        for await (const event of new WorkflowClient({ baseUrl: server.baseUrl }).getWorkflowEvents("h1", {
          signal: controller.signal,
        })) {
          seen.push(event.sequence);
          controller.abort(reason);
        }
      })(),
    );
    expect(seen).toEqual([0]);
    expect(error).toBe(reason);
  });

  it("yields every event exactly once whatever byte offsets the connections are cut at", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 8 }),
        fc.array(fc.nat({ max: 600 }), { maxLength: 4 }),
        fc.boolean(),
        async (count, cuts, sse) => {
          const all = Array.from({ length: count }, (_, i) =>
            i === count - 1
              ? envelope(i, "StopEvent", { result: "é😀" })
              : envelope(i, "StreamEvent", { text: "日本" }),
          );
          let connection = 0;
          server.handle((req, res) => {
            const after = Number(req.url.searchParams.get("after_sequence"));
            const rest = all.filter((e) => e.sequence > after);
            const body = Buffer.from(
              rest.map((e) => (sse ? sseFrame(e) : `${JSON.stringify(e)}\n`)).join(""),
            );
            res.writeHead(200, { "content-type": sse ? "text/event-stream" : "application/x-ndjson" });
            const cut = cuts[connection++];
            if (cut === undefined || cut >= body.length) {
              res.end(body);
              return;
            }
            res.flushHeaders();
            res.write(body.subarray(0, cut), () => res.socket?.destroy());
          });
          const client = new WorkflowClient({ baseUrl: server.baseUrl });
          const events = await collect(
            client.getWorkflowEvents("h1", { sse, maxReconnects: cuts.length + 1, reconnectDelayMs: 0 }),
          );
          expect(events.map((e) => e.sequence)).toEqual(all.map((e) => e.sequence));
          expect(events.at(-1)?.value).toEqual({ result: "é😀" });
        },
      ),
      { numRuns: 40 },
    );
  });
});
