// Protocol-level tests of the event stream's reader: the client against a real HTTP server on
// 127.0.0.1:0 that answers with canned bytes (sockets cut mid-frame, 204, replays, malformed events)
// that the real WorkflowServer does not produce on demand. The real server is in client-integration.
import { once } from "node:events";
import { type EventEnvelope, WorkflowClient, WorkflowNetworkError } from "eventloom/client";
import fc from "fast-check";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { CannedServer, envelope, json, sseFrame } from "./canned-server.js";

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
    expect(error).toMatchObject({
      code: "INVALID_RESPONSE",
      detail: expect.stringContaining("is not an envelope: value: missing"),
    });
  });

  it("delivers the events before a malformed one that came in the same chunk, then throws", async () => {
    server.handle((_req, res) => {
      res
        .writeHead(200, { "content-type": "text/event-stream" })
        .end(`${sseFrame(envelope(0))}${sseFrame(envelope(1))}data: {"hello":"world"}\n\n`);
    });
    const seen: number[] = [];
    const error = await rejection(
      (async () => {
        for await (const e of new WorkflowClient({ baseUrl: server.baseUrl }).getWorkflowEvents("h1")) {
          seen.push(e.sequence);
        }
      })(),
    );
    expect(seen).toEqual([0, 1]);
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
