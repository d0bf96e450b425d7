import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { MemoryStore, WorkflowServer, type WorkflowServerOptions } from "eventloom/server";
import { Approval, add, approval, counter, failing, fork, greeting, human, waiting } from "./fixtures.js";

export { until } from "../support/until.js";

export const BASE = "http://localhost";

/** A server with every fixture workflow on a MemoryStore (or the given options). */
export function makeServer(options: WorkflowServerOptions = {}): WorkflowServer {
  const server = new WorkflowServer({ store: new MemoryStore(), token: "", ...options });
  server.addWorkflow("greet", greeting);
  server.addWorkflow("human", human);
  server.addWorkflow("add", add);
  server.addWorkflow("failing", failing);
  server.addWorkflow("counter", counter);
  server.addWorkflow("approval", approval, { additionalEvents: [Approval] });
  server.addWorkflow("waiting", waiting);
  server.addWorkflow("fork", fork);
  return server;
}

/** Calls the server in process. */
export function call(
  server: WorkflowServer,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<Response> {
  const init: RequestInit = { method, headers: { ...headers } };
  if (body !== undefined) {
    init.body = typeof body === "string" ? body : JSON.stringify(body);
    (init.headers as Record<string, string>)["content-type"] = "application/json";
  }
  return server.fetch(new Request(`${BASE}${path}`, init));
}

/** Calls and parses the JSON answer. */
export async function callJson<T = Record<string, unknown>>(
  server: WorkflowServer,
  method: string,
  path: string,
  body?: unknown,
  headers?: Record<string, string>,
): Promise<{ status: number; body: T; headers: Headers }> {
  const res = await call(server, method, path, body, headers);
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : null) as T, headers: res.headers };
}

export interface Envelope {
  value: Record<string, unknown>;
  type: string;
  types: string[];
  sequence: number;
  qualified_name?: string;
}

/** Reads a whole NDJSON body. */
export async function readNdjson(res: Response): Promise<Envelope[]> {
  const text = await res.text();
  return text
    .split("\n")
    .filter((l) => l.trim() !== "")
    .map((l) => JSON.parse(l) as Envelope);
}

export interface SseFrame {
  id?: string;
  data?: string;
  comment?: string;
}

/** Reads SSE frames as they arrive; `until` stops early. */
export async function readSse(res: Response, until?: (frames: SseFrame[]) => boolean): Promise<SseFrame[]> {
  const reader = (res.body as ReadableStream<Uint8Array>).getReader();
  const decoder = new TextDecoder();
  const frames: SseFrame[] = [];
  let buffer = "";
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    buffer += decoder.decode(value, { stream: true });
    let index = buffer.indexOf("\n\n");
    while (index >= 0) {
      const raw = buffer.slice(0, index);
      buffer = buffer.slice(index + 2);
      const frame: SseFrame = {};
      for (const line of raw.split("\n")) {
        if (line.startsWith(":")) frame.comment = line.slice(1).trim();
        else if (line.startsWith("id: ")) frame.id = line.slice(4);
        else if (line.startsWith("data: ")) frame.data = line.slice(6);
      }
      frames.push(frame);
      index = buffer.indexOf("\n\n");
    }
    if (until?.(frames)) {
      await reader.cancel();
      break;
    }
  }
  return frames;
}

export const envelopes = (frames: SseFrame[]): Envelope[] =>
  frames.filter((f) => f.data !== undefined).map((f) => JSON.parse(f.data as string) as Envelope);

/** A temporary directory removed by the returned function. */
export function tempDir(): { dir: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), "workflows-server-"));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}
