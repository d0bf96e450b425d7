import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/** A request as the canned server saw it. */
export interface SeenRequest {
  method: string;
  url: URL;
  headers: IncomingMessage["headers"];
  body: string;
}

export type CannedHandler = (req: SeenRequest, res: ServerResponse) => unknown;

/**
 * A real HTTP server on 127.0.0.1:0 that answers with whatever each test scripts: for wire-level
 * edge cases of the client (malformed bodies, sockets cut mid-stream, 204) that the real server
 * never produces on purpose. Not a stand-in for WorkflowServer.
 */
export class CannedServer {
  readonly requests: SeenRequest[] = [];
  #server: Server;
  #handler: CannedHandler = (_req, res) => {
    res.writeHead(500).end();
  };
  #waiters: { count: number; resolve: () => void }[] = [];
  baseUrl = "";

  constructor() {
    this.#server = createServer(async (req, res) => {
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      const seen: SeenRequest = {
        method: req.method ?? "GET",
        url: new URL(req.url ?? "/", "http://127.0.0.1"),
        headers: req.headers,
        body: Buffer.concat(chunks).toString("utf8"),
      };
      this.requests.push(seen);
      this.#waiters = this.#waiters.filter((w) => {
        if (this.requests.length < w.count) return true;
        w.resolve();
        return false;
      });
      await this.#handler(seen, res);
    });
  }

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.#server.listen(0, "127.0.0.1", resolve));
    this.baseUrl = `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
    return this;
  }

  handle(handler: CannedHandler): void {
    this.#handler = handler;
  }

  /** Resolves once `count` requests have arrived in all. */
  received(count: number): Promise<void> {
    if (this.requests.length >= count) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push({ count, resolve }));
  }

  async close(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}

export function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
}

export const envelope = (
  sequence: number,
  type = "StreamEvent",
  value: Record<string, unknown> = { sequence },
) => ({
  value,
  qualified_name: type === "StopEvent" ? "workflows.events.StopEvent" : type,
  type,
  types:
    type === "StopEvent"
      ? ["workflows.events.Event", "workflows.events.StopEvent"]
      : ["workflows.events.Event", type],
  sequence,
});

export const sseFrame = (e: { sequence: number }) => `id: ${e.sequence}\ndata: ${JSON.stringify(e)}\n\n`;

export const handlerData = (overrides: Record<string, unknown> = {}) => ({
  handler_id: "h1",
  workflow_name: "greet",
  run_id: "r1",
  status: "completed",
  result: "Hello, John!",
  error: null,
  started_at: "2024-10-21T14:32:15.123Z",
  updated_at: "2024-10-21T14:45:30.456Z",
  completed_at: "2024-10-21T14:45:30.456Z",
  ...overrides,
});
