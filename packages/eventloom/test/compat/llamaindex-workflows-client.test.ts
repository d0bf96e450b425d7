// LlamaIndex's own JavaScript client, `@llamaindex/workflows-client` from npm (1.8.5, unchanged),
// against our real server over a socket in the llama-agents dialect (docs/decisions/0010): every
// function it exports, the seed's two examples (the greeting and human in the loop), and a listing
// longer than one of our pages. Issue 18 saw `result.value.result` undefined and run-nowait
// answering `status: "started"`.
import {
  createClient,
  createConfig,
  getEventsByHandlerId,
  getHandlers,
  getHandlersByHandlerId,
  getHealth,
  getResultsByHandlerId,
  getWorkflows,
  getWorkflowsByNameEvents,
  getWorkflowsByNameRepresentation,
  getWorkflowsByNameSchema,
  postEventsByHandlerId,
  postHandlersByHandlerIdCancel,
  postWorkflowsByNameRun,
  postWorkflowsByNameRunNowait,
  VERSION,
} from "@llamaindex/workflows-client";
import { MemoryStore, WorkflowServer } from "eventloom/server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { greeting, human } from "../support/seed-workflows.js";

type Client = ReturnType<typeof createClient>;
type Streamed = { type: string; value: Record<string, unknown>; types?: string[]; qualified_name?: string };

let server: WorkflowServer;
let client: Client;

beforeAll(async () => {
  server = new WorkflowServer({ store: new MemoryStore(), wire: "llama-agents" });
  server.addWorkflow("greet", greeting).addWorkflow("human", human);
  const { url } = await server.serve({ host: "127.0.0.1", port: 0 });
  client = createClient(createConfig({ baseUrl: url }));
});
afterAll(async () => server?.close());

/** Every event of a handler's stream as the client yields it; a stream error fails instead of retrying forever. */
async function readStream(
  handlerId: string,
  onEvent?: (event: Streamed) => Promise<void>,
): Promise<Streamed[]> {
  const errors: unknown[] = [];
  const { stream } = await getEventsByHandlerId({
    client,
    path: { handler_id: handlerId },
    query: { sse: true, after_sequence: -1 },
    sseMaxRetryAttempts: 1,
    onSseError: (error) => errors.push(error),
  });
  const events: Streamed[] = [];
  for await (const data of stream) {
    const event = data as unknown as Streamed;
    events.push(event);
    await onEvent?.(event);
  }
  expect(errors).toEqual([]);
  return events;
}

describe(`@llamaindex/workflows-client ${VERSION} against a llama-agents server`, () => {
  it("checks health and lists the workflows, their schemas, events and graph", async () => {
    expect((await getHealth({ client })).data).toEqual({ status: "healthy" });
    expect((await getWorkflows({ client })).data).toEqual({ workflows: ["greet", "human"] });
    const schema = await getWorkflowsByNameSchema({ client, path: { name: "greet" } });
    expect(Object.keys(schema.data ?? {})).toEqual(["start", "stop"]);
    const events = await getWorkflowsByNameEvents({ client, path: { name: "human" } });
    expect(events.data?.events.map((e) => e["title"])).toEqual(
      expect.arrayContaining(["RequestEvent", "ResponseEvent", "OutEvent"]),
    );
    const graph = await getWorkflowsByNameRepresentation({ client, path: { name: "human" } });
    expect(graph.data?.graph).toMatchObject({ nodes: expect.arrayContaining([expect.any(Object)]) });
    const missing = await getWorkflowsByNameSchema({ client, path: { name: "nope" } });
    expect(missing.response.status).toBe(404);
    expect(missing.error).toMatchObject({ code: "WORKFLOW_NOT_FOUND" });
  });

  it("runs the greeting and gives its result as the stop event's envelope", async () => {
    const ran = await postWorkflowsByNameRun({
      client,
      path: { name: "greet" },
      body: { start_event: { name: "John" } },
    });
    expect(ran.response.status).toBe(200);
    expect(ran.data).toMatchObject({ workflow_name: "greet", status: "completed", error: null });
    const result = ran.data?.result as Streamed;
    expect(result).toEqual({
      value: { result: "Hello, John!" },
      qualified_name: "workflows.events.StopEvent",
      type: "StopEvent",
      types: ["workflows.events.Event", "workflows.events.StopEvent"],
    });
    expect(result.value["result"]).toBe("Hello, John!");
  });

  it("starts the greeting without waiting, streams its events, and reads its handler and result", async () => {
    const started = await postWorkflowsByNameRunNowait({
      client,
      path: { name: "greet" },
      body: { start_event: { name: "Ada" } },
    });
    expect(started.data).toMatchObject({
      workflow_name: "greet",
      status: "running",
      result: null,
      completed_at: null,
    });
    const handlerId = started.data?.handler_id as string;
    const events = await readStream(handlerId);
    expect(events.map((e) => e.type)).toEqual(["StreamEvent", "StreamEvent", "StreamEvent", "StopEvent"]);
    expect(events.map((e) => e.value)).toEqual([
      { sequence: 0 },
      { sequence: 1 },
      { sequence: 2 },
      { result: "Hello, Ada!" },
    ]);
    const handler = await getHandlersByHandlerId({ client, path: { handler_id: handlerId } });
    expect(handler.response.status).toBe(200);
    expect(handler.data).toMatchObject({ handler_id: handlerId, status: "completed" });
    expect(handler.data?.result).toMatchObject({ value: { result: "Hello, Ada!" } });
    const bare = await getResultsByHandlerId({ client, path: { handler_id: handlerId } });
    expect(bare.data).toMatchObject({ handler_id: handlerId, result: "Hello, Ada!" });
  });

  it("answers the human-in-the-loop workflow's request through the stream, then gives the custom stop event", async () => {
    const started = await postWorkflowsByNameRunNowait({ client, path: { name: "human" }, body: {} });
    const handlerId = started.data?.handler_id as string;
    const running = await getHandlersByHandlerId({ client, path: { handler_id: handlerId } });
    expect(running.response.status).toBe(202);
    expect(running.data).toMatchObject({ status: "running", result: null });
    const sent: unknown[] = [];
    const events = await readStream(handlerId, async (event) => {
      if (event.type !== "RequestEvent") return;
      expect(event.value).toEqual({ prompt: "What is your name?" });
      const answer = await postEventsByHandlerId({
        client,
        path: { handler_id: handlerId },
        body: { event: { type: "ResponseEvent", value: { response: "Ada" } } },
      });
      sent.push(answer.data);
    });
    expect(sent).toEqual([{ status: "sent" }]);
    expect(events.map((e) => e.type)).toEqual(["RequestEvent", "OutEvent"]);
    const handler = await getHandlersByHandlerId({ client, path: { handler_id: handlerId } });
    expect(handler.data?.result).toMatchObject({ type: "OutEvent", value: { output: "Hello, Ada" } });
    const ended = await postEventsByHandlerId({
      client,
      path: { handler_id: handlerId },
      body: { event: { type: "ResponseEvent", value: { response: "late" } } },
    });
    expect(ended.response.status).toBe(409);
  });

  it("lists more handlers than one page, filters them, and cancels and purges one", async () => {
    const ids: string[] = [];
    for (let i = 0; i < 101; i++) {
      const started = await postWorkflowsByNameRunNowait({ client, path: { name: "human" }, body: {} });
      ids.push(started.data?.handler_id as string);
    }
    const all = await getHandlers({ client });
    expect(all.data?.handlers.length).toBeGreaterThanOrEqual(ids.length + 3);
    const running = await getHandlers({ client, query: { status: ["running"], workflow_name: ["human"] } });
    expect(running.data?.handlers.map((h) => h.handler_id).sort()).toEqual([...ids].sort());
    const completed = await getHandlers({
      client,
      query: { status: ["completed"], workflow_name: ["greet"] },
    });
    expect(completed.data?.handlers.map((h) => (h.result as Streamed).type)).toEqual([
      "StopEvent",
      "StopEvent",
    ]);

    const [first, second] = ids as [string, string];
    const cancelled = await postHandlersByHandlerIdCancel({ client, path: { handler_id: first } });
    expect(cancelled.data).toEqual({ status: "cancelled" });
    const lookup = await getHandlersByHandlerId({ client, path: { handler_id: first } });
    expect(lookup.response.status).toBe(500);
    expect(lookup.error).toMatchObject({ status: "cancelled", result: null });
    const purged = await postHandlersByHandlerIdCancel({
      client,
      path: { handler_id: second },
      query: { purge: true },
    });
    expect(purged.data).toEqual({ status: "deleted" });
    expect((await getHandlersByHandlerId({ client, path: { handler_id: second } })).response.status).toBe(
      404,
    );
    for (const id of ids.slice(2)) await postHandlersByHandlerIdCancel({ client, path: { handler_id: id } });
  });

  // Last: it adds a completed greeting, which the listing above counts.
  it("runs the greeting from kwargs, the start event's fields in LlamaIndex's own form", async () => {
    const ran = await postWorkflowsByNameRun({
      client,
      path: { name: "greet" },
      body: { kwargs: { name: "Grace" }, context: {} },
    });
    expect(ran.response.status).toBe(200);
    const result = ran.data?.result as Streamed;
    expect(result.value["result"]).toBe("Hello, Grace!");
  });
});

describe(`@llamaindex/workflows-client ${VERSION} against a seed server, with X-Workflows-Wire`, () => {
  // A server left in the seed dialect (the default): the client configured with the header, as the
  // README shows, gets its own shapes; without it, the seed's, which it misreads (issue 18).
  let seedServer: WorkflowServer;
  let url: string;
  beforeAll(async () => {
    seedServer = new WorkflowServer({ store: new MemoryStore() });
    seedServer.addWorkflow("greet", greeting);
    url = (await seedServer.serve({ host: "127.0.0.1", port: 0 })).url;
  });
  afterAll(async () => seedServer?.close());

  it("runs, starts and reads a handler in the llama-agents shapes when the client sends the header", async () => {
    const withHeader = createClient(
      createConfig({ baseUrl: url, headers: { "X-Workflows-Wire": "llama-agents" } }),
    );
    const ran = await postWorkflowsByNameRun({
      client: withHeader,
      path: { name: "greet" },
      body: { start_event: { name: "Lin" } },
    });
    expect(ran.response.headers.get("x-workflows-wire")).toBe("llama-agents");
    expect(ran.data?.result).toMatchObject({ type: "StopEvent", value: { result: "Hello, Lin!" } });
    const started = await postWorkflowsByNameRunNowait({
      client: withHeader,
      path: { name: "greet" },
      body: { start_event: { name: "Mo" } },
    });
    expect(started.data).toMatchObject({ workflow_name: "greet", status: "running", result: null });
    const handlerId = started.data?.handler_id as string;
    // The stream, read to its end as the client yields it, closes once the run has ended.
    const { stream } = await getEventsByHandlerId({
      client: withHeader,
      path: { handler_id: handlerId },
      query: { sse: true, after_sequence: -1 },
      sseMaxRetryAttempts: 1,
    });
    const types: string[] = [];
    for await (const data of stream) types.push((data as unknown as Streamed).type);
    expect(types).toEqual(["StreamEvent", "StreamEvent", "StreamEvent", "StopEvent"]);
    const handler = await getHandlersByHandlerId({ client: withHeader, path: { handler_id: handlerId } });
    expect(handler.data).toMatchObject({ status: "completed", result: { value: { result: "Hello, Mo!" } } });

    // The same calls without the header: the seed's shapes, which this client does not read.
    const plain = createClient(createConfig({ baseUrl: url }));
    const bare = await postWorkflowsByNameRun({
      client: plain,
      path: { name: "greet" },
      body: { start_event: { name: "Lin" } },
    });
    expect(bare.data?.result).toBe("Hello, Lin!");
    const seedStart = await postWorkflowsByNameRunNowait({
      client: plain,
      path: { name: "greet" },
      body: {},
    });
    expect(seedStart.data).toMatchObject({ status: "started" });
  });
});
