// The client against the real WorkflowServer on 127.0.0.1:0, with the spec's example workflows,
// including the spec's client.ts run unchanged in a child process and a TCP proxy that cuts the
// event stream's socket mid-stream.
import { execFile } from "node:child_process";
import { copyFileSync, mkdtempSync, rmSync } from "node:fs";
import { connect, createServer, type Server, type Socket } from "node:net";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { type AnyWorkflow, defineEvent, StartEvent } from "eventloom";
import { type EventEnvelope, WorkflowClient, WorkflowClientError } from "eventloom/client";
import { MemoryStore, WorkflowServer } from "eventloom/server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";

const packageDir = fileURLToPath(new URL("../..", import.meta.url));
const repoDir = fileURLToPath(new URL("../../../..", import.meta.url));
const specExamples = join(repoDir, "examples");
const exampleFiles = ["client.ts", "greeting-server.ts", "human-in-the-loop-server.ts"];

// The spec's examples, copied unchanged into a scratch folder under the package (git-ignored
// `.vitest-*`) so that `eventloom` and `zod` resolve as they do for the project's own files.
const scratch = mkdtempSync(join(packageDir, "test", "client", ".vitest-spec-examples-"));
for (const file of exampleFiles) copyFileSync(join(specExamples, file), join(scratch, file));

interface ExampleModules {
  greeting: AnyWorkflow;
  human: AnyWorkflow;
  ResponseEvent: typeof ResponseEventShape;
}
const ResponseEventShape = defineEvent("ResponseEvent", z.object({ response: z.string() }));

let examples: ExampleModules;
let server: WorkflowServer;
let baseUrl: string;
let client: WorkflowClient;

beforeAll(async () => {
  const greetingModule = (await import(join(scratch, "greeting-server.ts"))) as { greeting: AnyWorkflow };
  const humanModule = (await import(join(scratch, "human-in-the-loop-server.ts"))) as {
    human: AnyWorkflow;
    ResponseEvent: typeof ResponseEventShape;
  };
  examples = {
    greeting: greetingModule.greeting,
    human: humanModule.human,
    ResponseEvent: humanModule.ResponseEvent,
  };
  server = new WorkflowServer({ store: new MemoryStore() });
  server.addWorkflow("greet", examples.greeting);
  server.addWorkflow("human", examples.human);
  baseUrl = (await server.serve({ host: "127.0.0.1", port: 0 })).url;
  client = new WorkflowClient({ baseUrl });
});

afterAll(async () => {
  await server?.close();
  rmSync(scratch, { recursive: true, force: true });
});

async function collect(iterable: AsyncIterable<EventEnvelope>): Promise<EventEnvelope[]> {
  const out: EventEnvelope[] = [];
  for await (const e of iterable) out.push(e);
  return out;
}

async function rejection(promise: Promise<unknown>): Promise<WorkflowClientError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof WorkflowClientError) return error;
    throw error;
  }
  throw new Error("expected a WorkflowClientError");
}

async function waitForRequestEvent(handlerId: string): Promise<void> {
  for await (const event of client.getWorkflowEvents(handlerId)) {
    if (event.type === "RequestEvent") return;
  }
  throw new Error("the stream ended before RequestEvent");
}

describe("the spec's client example", () => {
  it("runs unchanged against the server and prints both results", async () => {
    const tsx = join(repoDir, "node_modules", ".bin", "tsx");
    const { stdout } = await promisify(execFile)(
      tsx,
      ["--tsconfig", join(packageDir, "tsconfig.json"), join(scratch, "client.ts")],
      { env: { ...process.env, WORKFLOWS_URL: baseUrl }, timeout: 60_000 },
    );
    expect(stdout).toContain("===== AVAILABLE WORKFLOWS ====");
    expect(stdout).toContain("greet");
    expect(stdout).toContain("Final result: Hello, John! (status: completed)");
    expect(stdout).toContain("Workflow is requiring human input: What is your name?");
    expect(stdout).toContain("Received final message: Hello, Ada");
  });
});

describe("WorkflowClient against WorkflowServer", () => {
  it("lists workflows in registration order and reports health", async () => {
    expect(await client.listWorkflows()).toEqual(["greet", "human"]);
    expect(await client.isHealthy()).toBe(true);
  });

  it("runs a workflow to completion and returns its camelCase handler", async () => {
    const handler = await client.runWorkflow("greet", { startEvent: StartEvent.create({ name: "Ada" }) });
    expect(handler).toMatchObject({
      workflowName: "greet",
      status: "completed",
      result: "Hello, Ada!",
      error: null,
    });
    expect(handler.completedAt).toMatch(/Z$/);
    // The handler's own record adds the start event it ran with (issue 15).
    expect(await client.getHandler(handler.handlerId)).toEqual({
      ...handler,
      startEvent: expect.objectContaining({ value: { name: "Ada" } }),
    });
  });

  it("accepts a bare object of fields as the start event", async () => {
    const handler = await client.runWorkflow("greet", { startEvent: { name: "Bo" } });
    expect(handler.result).toBe("Hello, Bo!");
  });

  it("streams a run's events in order, ending with the StopEvent", async () => {
    const { handlerId, status } = await client.runWorkflowNowait("greet", { startEvent: { name: "Cy" } });
    expect(status).toBe("started");
    const events = await collect(client.getWorkflowEvents(handlerId));
    expect(events.filter((e) => e.type === "StreamEvent").map((e) => e.value["sequence"])).toEqual([0, 1, 2]);
    const last = events.at(-1)!;
    expect(last.types).toContain("workflows.events.StopEvent");
    expect(last.value).toEqual({ result: "Hello, Cy!" });
    const sequences = events.map((e) => e.sequence);
    expect(sequences).toEqual([...sequences].sort((a, b) => a - b));
    expect(new Set(sequences).size).toBe(sequences.length);
    // NDJSON, read again after the end, gives the same events
    expect(await collect(client.getWorkflowEvents(handlerId, { sse: false }))).toEqual(events);
  });

  it("resumes from afterSequence and ends at once when nothing is left", async () => {
    const { handlerId } = await client.runWorkflowNowait("greet");
    const all = await collect(client.getWorkflowEvents(handlerId));
    const tail = await collect(client.getWorkflowEvents(handlerId, { afterSequence: all[1]!.sequence }));
    expect(tail).toEqual(all.slice(2));
    expect(
      await collect(client.getWorkflowEvents(handlerId, { afterSequence: all.at(-1)!.sequence })),
    ).toEqual([]);
  });

  it("streams internal events only when asked, and omits qualified names when asked", async () => {
    const { handlerId } = await client.runWorkflowNowait("greet");
    const plain = await collect(client.getWorkflowEvents(handlerId, { includeQualifiedName: false }));
    const internal = await collect(client.getWorkflowEvents(handlerId, { includeInternal: true }));
    expect(plain.every((e) => e.qualifiedName === undefined)).toBe(true);
    expect(internal.length).toBeGreaterThan(plain.length);
    expect(internal.some((e) => e.type === "StepStateChanged")).toBe(true);
  });

  it("answers a running handler's result with status running, then the result once the human replied", async () => {
    const { handlerId } = await client.runWorkflowNowait("human");
    await waitForRequestEvent(handlerId);
    const running = await client.getResult(handlerId);
    expect(running).toMatchObject({ handlerId, status: "running", result: null, completedAt: null });
    expect(await client.sendEvent(handlerId, examples.ResponseEvent.create({ response: "Ada" }))).toEqual({
      status: "sent",
    });
    const events = await collect(client.getWorkflowEvents(handlerId));
    expect(events.at(-1)?.value).toEqual({ output: "Hello, Ada" });
    expect(await client.getResult(handlerId)).toMatchObject({
      status: "completed",
      result: { output: "Hello, Ada" },
    });
  });

  it("sends an event in the seed's raw form", async () => {
    const { handlerId } = await client.runWorkflowNowait("human");
    await waitForRequestEvent(handlerId);
    await client.sendEvent(handlerId, {
      __is_pydantic: true,
      value: { response: "Eve" },
      qualified_name: "ResponseEvent",
    });
    await collect(client.getWorkflowEvents(handlerId));
    expect((await client.getResult(handlerId)).result).toEqual({ output: "Hello, Eve" });
  });

  it("rejects an unknown event type and an invalid value with 400 and issues", async () => {
    const { handlerId } = await client.runWorkflowNowait("human");
    const unknown = await rejection(client.sendEvent(handlerId, { type: "Nope", value: {} }));
    expect(unknown).toMatchObject({ status: 400, code: "UNKNOWN_EVENT" });
    expect(unknown.issues?.length).toBeGreaterThan(0);
    const invalid = await rejection(
      client.sendEvent(handlerId, { type: "ResponseEvent", value: { response: 5 } }),
    );
    expect(invalid).toMatchObject({ status: 400, code: "VALIDATION_ERROR" });
    expect(invalid.issues?.[0]?.path).toBe("event.value.response");
    await client.cancelHandler(handlerId, { purge: true });
  });

  it("throws WorkflowClientError with code and detail for unknown workflows and handlers", async () => {
    const noWorkflow = await rejection(client.runWorkflow("nope"));
    expect(noWorkflow).toMatchObject({ status: 404, code: "WORKFLOW_NOT_FOUND" });
    expect(noWorkflow.detail).toBeTruthy();
    expect(await rejection(client.getResult("no-such-handler"))).toMatchObject({
      status: 404,
      code: "HANDLER_NOT_FOUND",
    });
    expect(await rejection(client.runWorkflowNowait("greet", { handlerId: "bad id!" }))).toMatchObject({
      status: 400,
    });
  });

  it("cancels a running handler, refuses to cancel it twice, and purges it", async () => {
    const { handlerId } = await client.runWorkflowNowait("human");
    await waitForRequestEvent(handlerId);
    expect(await client.cancelHandler(handlerId)).toBe("cancelled");
    const events = await collect(client.getWorkflowEvents(handlerId));
    expect(events.at(-1)?.type).toBe("WorkflowCancelledEvent");
    expect((await client.getHandler(handlerId)).status).toBe("cancelled");
    expect(await rejection(client.cancelHandler(handlerId))).toMatchObject({ status: 409 });
    expect(await client.cancelHandler(handlerId, { purge: true })).toBe("deleted");
    expect(await rejection(client.getHandler(handlerId))).toMatchObject({
      status: 404,
      code: "HANDLER_NOT_FOUND",
    });
  });

  it("pages through handlers with filters, newest first", async () => {
    const ids: string[] = [];
    for (let i = 0; i < 3; i++)
      ids.push((await client.runWorkflow("greet", { startEvent: { name: `p${i}` } })).handlerId);
    const seen: string[] = [];
    for await (const h of client.getHandlers({ workflowName: "greet", status: "completed", limit: 2 })) {
      expect(h).toMatchObject({ workflowName: "greet", status: "completed" });
      seen.push(h.handlerId);
    }
    expect(new Set(seen).size).toBe(seen.length);
    for (const id of ids) expect(seen).toContain(id);
    expect(seen.indexOf(ids[2]!)).toBeLessThan(seen.indexOf(ids[0]!));
    const page = await client.getHandlersPage({ workflowName: "greet", limit: 1 });
    expect(page.handlers).toHaveLength(1);
    expect(page.nextCursor).toEqual(expect.any(String));
    expect(await rejection(client.getHandlersPage({ limit: 5000 }))).toMatchObject({ status: 400 });
  });

  it("continues an ended handler under the same id with a new run id", async () => {
    const first = await client.runWorkflow("greet", { startEvent: { name: "One" } });
    const second = await client.runWorkflow("greet", {
      startEvent: { name: "Two" },
      handlerId: first.handlerId,
    });
    expect(second.handlerId).toBe(first.handlerId);
    expect(second.runId).not.toBe(first.runId);
    expect(second.result).toBe("Hello, Two!");
  });

  it("reads the schemas, the graph and the OpenAPI document", async () => {
    const schema = await client.getWorkflowSchema("human");
    expect(schema.start).toBeTypeOf("object");
    expect(schema.stop).toBeTypeOf("object");
    const eventSchemas = await client.getEventSchemas("human");
    expect(eventSchemas.map((s) => s["title"])).toEqual(
      expect.arrayContaining(["RequestEvent", "ResponseEvent"]),
    );
    const graph = await client.getWorkflowRepresentation("human");
    expect(graph.nodes.some((n) => n.nodeType === "step" && n.id === "greet_human")).toBe(true);
    expect(graph.nodes.some((n) => n.nodeType === "external")).toBe(true);
    const openapi = await client.getOpenApi();
    expect(openapi["openapi"]).toBe("3.1.0");
    expect(await rejection(client.getWorkflowSchema("nope"))).toMatchObject({ status: 404 });
  });
});

describe("in process", () => {
  it("works over the server's fetch handler without a socket, streams included", async () => {
    const local = new WorkflowClient({
      baseUrl: "http://localhost",
      fetch: (url, init) => server.fetch(new Request(url, init)),
    });
    const { handlerId } = await local.runWorkflowNowait("greet", { startEvent: { name: "Local" } });
    const events = await collect(local.getWorkflowEvents(handlerId));
    expect(events.at(-1)?.value).toEqual({ result: "Hello, Local!" });
    expect((await local.getResult(handlerId)).status).toBe("completed");
  });
});

describe("bearer token", () => {
  it("is sent by the client and required by the server, except for /health", async () => {
    const guarded = new WorkflowServer({ store: new MemoryStore(), token: "s3cret" });
    guarded.addWorkflow("greet", examples.greeting);
    const { url } = await guarded.serve({ host: "127.0.0.1", port: 0 });
    try {
      const anonymous = new WorkflowClient({ baseUrl: url });
      expect(await anonymous.isHealthy()).toBe(true);
      expect(await rejection(anonymous.listWorkflows())).toMatchObject({ status: 401, code: "UNAUTHORIZED" });
      expect(
        await rejection(new WorkflowClient({ baseUrl: url, token: "wrong" }).listWorkflows()),
      ).toMatchObject({
        status: 401,
      });
      expect(await new WorkflowClient({ baseUrl: url, token: "s3cret" }).listWorkflows()).toEqual(["greet"]);
    } finally {
      await guarded.close();
    }
  });
});

/**
 * A TCP proxy in front of the server that, on the first connection carrying GET /events, forwards
 * the response until the first StreamEvent frame has passed, then forwards half of the next chunk
 * and destroys both sockets.
 */
class CuttingProxy {
  readonly #server: Server;
  readonly #sockets = new Set<Socket>();
  cut = false;
  eventRequests = 0;
  url = "";

  constructor(upstreamPort: number) {
    this.#server = createServer((downstream) => {
      const upstream = connect(upstreamPort, "127.0.0.1");
      this.#sockets.add(downstream).add(upstream);
      let isEvents = false;
      let seen = "";
      downstream.on("data", (chunk: Buffer) => {
        if (chunk.toString("latin1").startsWith("GET /events/")) {
          isEvents = true;
          this.eventRequests++;
        }
        upstream.write(chunk);
      });
      upstream.on("data", (chunk: Buffer) => {
        if (!isEvents || this.cut) {
          downstream.write(chunk);
          return;
        }
        if (!seen.includes("StreamEvent")) {
          seen += chunk.toString("utf8");
          downstream.write(chunk);
          return;
        }
        this.cut = true;
        downstream.write(chunk.subarray(0, Math.max(1, chunk.length >> 1)), () => {
          downstream.destroy();
          upstream.destroy();
        });
      });
      const close = () => {
        downstream.destroy();
        upstream.destroy();
      };
      downstream.on("error", close).on("close", close);
      upstream.on("error", close).on("close", close);
    });
  }

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.#server.listen(0, "127.0.0.1", resolve));
    const address = this.#server.address();
    if (address === null || typeof address === "string") throw new Error("no address");
    this.url = `http://127.0.0.1:${address.port}`;
    return this;
  }

  async close(): Promise<void> {
    for (const s of this.#sockets) s.destroy();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}

describe("a connection cut mid-stream", () => {
  it("is resumed from the last sequence seen, without repeating or skipping an event", async () => {
    const port = Number(new URL(baseUrl).port);
    const proxy = await new CuttingProxy(port).start();
    try {
      const viaProxy = new WorkflowClient({ baseUrl: proxy.url });
      const { handlerId } = await viaProxy.runWorkflowNowait("greet", { startEvent: { name: "Proxy" } });
      const events = await collect(viaProxy.getWorkflowEvents(handlerId, { reconnectDelayMs: 10 }));
      expect(proxy.cut).toBe(true);
      expect(proxy.eventRequests).toBeGreaterThanOrEqual(2);
      // the whole stream, read directly after the run ended, is the reference
      const reference = await collect(client.getWorkflowEvents(handlerId));
      expect(events).toEqual(reference);
      expect(events.at(-1)?.value).toEqual({ result: "Hello, Proxy!" });
    } finally {
      await proxy.close();
    }
  });
});
