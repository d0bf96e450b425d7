// Slow and idle clients over real sockets (node:net): a byte per second, never-ending bodies, hundreds
// of idle connections. A normal client must keep getting answers within a bound meanwhile. In long
// mode the test also waits for the server's own timeouts to cut the dribblers.
import { connect, type Socket } from "node:net";
import { WorkflowClient } from "eventloom/client";
import { MemoryStore, WorkflowServer } from "eventloom/server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ask, retry, tortureAdditionalEvents } from "./fixtures/torture-workflows.js";
import { percentile, reportFigures, round } from "./support/figures.js";
import { MODE, sized } from "./support/mode.js";

const IDLE_CONNECTIONS = 200;
const DRIBBLERS = 20;
const NORMAL_REQUESTS = sized(60, 400);
const ANSWER_BOUND_MS = 5_000; // generous: CI runs every test file at once on two cores

let server: WorkflowServer;
let port: number;
let url: string;
const sockets: Socket[] = [];
const timers: ReturnType<typeof setInterval>[] = [];

beforeAll(async () => {
  server = new WorkflowServer({ store: new MemoryStore() });
  server
    .addWorkflow("retry", retry)
    .addWorkflow("ask", ask, { additionalEvents: [...tortureAdditionalEvents.ask] });
  const info = await server.serve({ host: "127.0.0.1", port: 0 });
  port = info.port;
  url = info.url;
});
afterAll(async () => {
  for (const t of timers) clearInterval(t);
  for (const s of sockets) s.destroy();
  await server?.close();
});

interface Opened {
  socket: Socket;
  /** Resolves when the server closes (or resets) the connection, with the ms it took. */
  closed: Promise<number>;
  received: () => string;
}

function open(): Promise<Opened> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const socket = connect({ host: "127.0.0.1", port }, () =>
      resolve({ socket, closed, received: () => data }),
    );
    let data = "";
    socket.setEncoding("latin1");
    socket.on("data", (chunk: string) => {
      data += chunk;
    });
    socket.on("error", () => {});
    const closed = new Promise<number>((done) => socket.once("close", () => done(Date.now() - started)));
    socket.once("error", reject);
    sockets.push(socket);
  });
}

/** Resolves once what the server sent satisfies `test`. */
function receivedUntil(o: Opened, test: (text: string) => boolean): Promise<void> {
  return new Promise((resolve) => {
    const check = () => {
      if (!test(o.received())) return;
      o.socket.off("data", check);
      resolve();
    };
    o.socket.on("data", check);
    check();
  });
}

/** Writes `text` one byte per `everyMs`, forever when `repeat` (a never-ending chunked body). */
function dribble(socket: Socket, text: string, everyMs: number, repeat = false): void {
  let i = 0;
  const timer = setInterval(() => {
    if (socket.destroyed) return clearInterval(timer);
    if (i >= text.length) {
      if (!repeat) return clearInterval(timer);
      i = 0;
    }
    socket.write(text[i++] as string);
  }, everyMs);
  timers.push(timer);
}

describe("slow clients", () => {
  it("200 idle connections, byte-a-second headers and bodies, and endless bodies leave normal clients answered in time", {
    timeout: sized(60_000, 240_000),
  }, async () => {
    const idle = await Promise.all(Array.from({ length: IDLE_CONNECTIONS }, () => open()));
    // Headers a byte per second: never complete.
    const headerDribblers = await Promise.all(Array.from({ length: DRIBBLERS }, () => open()));
    for (const d of headerDribblers)
      dribble(d.socket, "GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: " + "a".repeat(1000), 1000);
    // A chunked body a byte per second, never ending.
    const bodyDribblers = await Promise.all(Array.from({ length: DRIBBLERS }, () => open()));
    for (const d of bodyDribblers) {
      d.socket.write(
        "POST /events/none HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n",
      );
      dribble(d.socket, "1\r\n \r\n", 1000 / 7, true);
    }
    // An endless chunked body as fast as it goes: refused once past the body limit.
    const flood = await open();
    flood.socket.write(
      "POST /workflows/ask/run-nowait HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n",
    );
    const chunk = `10000\r\n${" ".repeat(0x10000)}\r\n`;
    const floodStarted = Date.now();
    const pump = () => {
      while (!flood.socket.destroyed && flood.socket.write(chunk)) {
        if (flood.received().includes("HTTP/1.1")) return;
      }
      if (!flood.socket.destroyed && !flood.received().includes("HTTP/1.1")) flood.socket.once("drain", pump);
    };
    pump();
    // Refused (413) or cut (the socket closed) once past the limit; which of the two is reported.
    const refused = Promise.race([
      receivedUntil(flood, (text) => text.includes("\r\n\r\n")),
      flood.closed,
    ]).then(() => Date.now() - floodStarted);

    // Meanwhile a normal client gets every answer, each in time.
    const client = new WorkflowClient({ baseUrl: url, timeoutMs: 10_000 });
    const latencies: number[] = [];
    for (let i = 0; i < NORMAL_REQUESTS; i++) {
      const t = performance.now();
      if (i % 3 === 0) expect(await client.isHealthy()).toBe(true);
      else if (i % 3 === 1) {
        const r = await client.runWorkflow("retry", { startEvent: { n: i, failures: 0 } });
        expect(r.result).toEqual({ kind: "retry", n: i, triple: 3 * i });
      } else expect(await client.listWorkflows()).toEqual(["retry", "ask"]);
      latencies.push(performance.now() - t);
    }
    expect(Math.max(...latencies), "every normal request answered within the bound").toBeLessThan(
      ANSWER_BOUND_MS,
    );

    // The flood was refused once past the limit, with the contract's 413 and its detail.
    const floodMs = await refused;
    const floodAnswer = flood.received().match(/^HTTP\/1\.1 (\d+)/)?.[1] ?? "connection reset, no answer";
    expect(floodAnswer).toBe("413");
    expect(flood.received()).toContain("PAYLOAD_TOO_LARGE");

    let headerCutMs = Number.NaN;
    let bodyCutMs = Number.NaN;
    if (MODE === "long") {
      // The server's headersTimeout (20 s) and requestTimeout (60 s) cut the dribblers, checked by
      // Node every quarter of requestTimeoutMs (15 s): bounded, if slowly.
      headerCutMs = Math.max(...(await Promise.all(headerDribblers.map((d) => d.closed))));
      bodyCutMs = Math.max(...(await Promise.all(bodyDribblers.map((d) => d.closed))));
      expect(headerCutMs).toBeLessThan(65_000);
      expect(bodyCutMs).toBeLessThan(110_000);
      for (const d of headerDribblers) expect(d.received()).toMatch(/^(HTTP\/1\.1 408|$)/);
    }
    const idleOpen = idle.filter((c) => !c.socket.destroyed).length;
    expect(await client.isHealthy()).toBe(true);
    reportFigures("slow-clients", {
      idle_connections: IDLE_CONNECTIONS,
      byte_per_second_headers: DRIBBLERS,
      byte_per_second_bodies: DRIBBLERS,
      idle_connections_still_open_at_end: idleOpen,
      normal_requests: NORMAL_REQUESTS,
      normal_p50_ms: round(percentile(latencies, 50)),
      normal_p99_ms: round(percentile(latencies, 99)),
      normal_max_ms: round(Math.max(...latencies)),
      endless_body_stopped_after_ms: floodMs,
      endless_body_answer: floodAnswer,
      slow_headers_cut_after_ms: Number.isNaN(headerCutMs) ? "not waited (quick mode)" : headerCutMs,
      slow_body_cut_after_ms: Number.isNaN(bodyCutMs) ? "not waited (quick mode)" : bodyCutMs,
    });
  });
});
