import { StartEvent } from "eventloom";
import { WorkflowClient } from "eventloom/client";
import { MemoryStore, WorkflowServer } from "eventloom/server";
import { afterEach, describe, expect, test } from "vitest";
import { ResponseEvent } from "../fixtures.js";
import { envelopes, makeServer, readNdjson, readSse } from "../helpers.js";

let server: WorkflowServer;
afterEach(async () => server?.close());

async function start(options: ConstructorParameters<typeof WorkflowServer>[0] = {}): Promise<string> {
  server = makeServer(options);
  const info = await server.serve({ host: "127.0.0.1", port: 0 });
  expect(info.port).toBeGreaterThan(0);
  expect(info.url).toBe(`http://127.0.0.1:${info.port}`);
  return info.url;
}

describe("over a real socket", () => {
  test("the seed's greeting: run-nowait, stream SSE with plain fetch, then the result", async () => {
    const url = await start();
    const started = (await (
      await fetch(`${url}/workflows/greet/run-nowait`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ start_event: { name: "John" } }),
      })
    ).json()) as { handler_id: string };
    const frames = await readSse(await fetch(`${url}/events/${started.handler_id}`));
    expect(envelopes(frames).map((e) => e.type)).toEqual([
      "StreamEvent",
      "StreamEvent",
      "StreamEvent",
      "StopEvent",
    ]);
    const result = (await (await fetch(`${url}/results/${started.handler_id}`)).json()) as Record<
      string,
      unknown
    >;
    expect(result).toMatchObject({ status: "completed", result: "Hello, John!" });
  });

  test("the typed client drives human in the loop end to end", async () => {
    const url = await start({ token: "tok" });
    const client = new WorkflowClient({ baseUrl: url, token: "tok" });
    expect(await client.listWorkflows()).toContain("human");
    const handler = await client.runWorkflowNowait("human", { startEvent: StartEvent.create({}) });
    const seen: string[] = [];
    for await (const event of client.getWorkflowEvents(handler.handlerId)) {
      seen.push(event.type);
      if (event.type === "RequestEvent") {
        await client.sendEvent(handler.handlerId, ResponseEvent.create({ response: "Ada" }));
      }
    }
    expect(seen).toEqual(["RequestEvent", "OutEvent"]);
    const result = await client.getResult(handler.handlerId);
    expect(result.result).toEqual({ output: "Hello, Ada" });
  });

  test("an idle SSE stream carries : ping comments", async () => {
    const url = await start({ pingIntervalMs: 30 });
    const { handler_id } = (await (
      await fetch(`${url}/workflows/waiting/run-nowait`, { method: "POST" })
    ).json()) as { handler_id: string };
    const frames = await readSse(
      await fetch(`${url}/events/${handler_id}`),
      (fs) => fs.filter((f) => f.comment === "ping").length >= 2,
    );
    expect(frames.filter((f) => f.comment === "ping").length).toBeGreaterThanOrEqual(2);
  });

  test("a client that disconnects from a sync run does not cancel it", async () => {
    const url = await start();
    const abort = new AbortController();
    const pending = fetch(`${url}/workflows/waiting/run`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ handler_id: "keep-going" }),
      signal: abort.signal,
    }).catch((e: unknown) => e);
    // the handler is recorded once the run has started
    for (;;) {
      const res = await fetch(`${url}/handlers/keep-going`);
      if (res.status === 200) break;
      await res.arrayBuffer();
    }
    abort.abort();
    await pending;
    const ping = await fetch(`${url}/events/keep-going`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ event: { type: "Finish", value: {} } }),
    });
    expect(ping.status).toBe(200);
    const events = await readNdjson(await fetch(`${url}/events/keep-going?sse=false`));
    expect(events.at(-1)?.type).toBe("StopEvent");
  });

  test("a reader that disconnects mid-stream leaves the run and other readers alone", async () => {
    const url = await start();
    const { handler_id } = (await (
      await fetch(`${url}/workflows/waiting/run-nowait`, { method: "POST" })
    ).json()) as { handler_id: string };
    const quitter = new AbortController();
    const gone = await fetch(`${url}/events/${handler_id}?sse=false`, { signal: quitter.signal });
    const stayer = fetch(`${url}/events/${handler_id}?sse=false`).then(readNdjson);
    quitter.abort();
    await gone.body?.cancel().catch(() => {});
    for (let n = 0; n < 3; n++) {
      await fetch(`${url}/events/${handler_id}`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ event: { type: "Ping", value: { n } } }),
      });
    }
    await fetch(`${url}/events/${handler_id}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ event: { type: "Finish", value: {} } }),
    });
    const events = await stayer;
    expect(events.filter((e) => e.type === "Pong")).toHaveLength(3);
  });

  test("close() ends open streams, answers waiting sync runs with 503, and stops listening", async () => {
    const url = await start();
    const { handler_id } = (await (
      await fetch(`${url}/workflows/waiting/run-nowait`, { method: "POST" })
    ).json()) as { handler_id: string };
    const stream = fetch(`${url}/events/${handler_id}?sse=false`).then((r) => r.text());
    const sync = fetch(`${url}/workflows/waiting/run`, { method: "POST" });
    for (;;) {
      const res = (await (await fetch(`${url}/handlers?status=running`)).json()) as { handlers: unknown[] };
      if (res.handlers.length === 2) break;
    }
    await server.close();
    await expect(stream).resolves.toBeTypeOf("string");
    expect((await sync).status).toBe(503);
    await expect(fetch(`${url}/health`)).rejects.toThrow();
  });

  test("serve() on a taken port rejects", async () => {
    const url = await start();
    const other = new WorkflowServer({ store: new MemoryStore() });
    await expect(other.serve({ host: "127.0.0.1", port: Number(new URL(url).port) })).rejects.toThrow();
    await other.close();
  });
});

describe("slow clients", () => {
  test("a client that never finishes its request is cut off, while event streams outlive the timeout", async () => {
    const { connect } = await import("node:net");
    const url = await start({ requestTimeoutMs: 200, pingIntervalMs: 50 });
    const { port } = new URL(url);
    const { handler_id } = (await (
      await fetch(`${url}/workflows/waiting/run-nowait`, { method: "POST" })
    ).json()) as { handler_id: string };
    const opened = Date.now();
    const streamed = readSse(await fetch(`${url}/events/${handler_id}`), () => Date.now() - opened > 700);

    const socket = connect(Number(port), "127.0.0.1");
    socket.write(
      "POST /workflows/greet/run HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{",
    );
    const answer = await new Promise<string>((resolve) => {
      let data = "";
      socket.on("data", (d) => {
        data += d.toString();
      });
      socket.on("close", () => resolve(data));
    });
    expect(answer).toMatch(/^HTTP\/1\.1 408/);
    const frames = await streamed;
    expect(frames.filter((f) => f.comment === "ping").length).toBeGreaterThan(5);
  });
});
