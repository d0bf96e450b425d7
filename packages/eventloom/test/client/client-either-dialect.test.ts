// Our WorkflowClient against a real server in each wire dialect (docs/decisions/0010): every method
// gives the same values whether the server answers others in `seed` or in `llama-agents`, because
// the client asks for the seed's shapes on every request (X-Workflows-Wire: seed).
import { StartEvent } from "eventloom";
import { WorkflowClient, WorkflowClientError } from "eventloom/client";
import { MemoryStore, WorkflowServer } from "eventloom/server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { add, failing, fork, greeting, human, ResponseEvent, waiting } from "../server/fixtures.js";

describe.each(["seed", "llama-agents"] as const)("WorkflowClient against a server in %s", (wire) => {
  let server: WorkflowServer;
  let client: WorkflowClient;
  let url: string;

  beforeAll(async () => {
    server = new WorkflowServer({ store: new MemoryStore(), token: "", wire });
    server
      .addWorkflow("greet", greeting)
      .addWorkflow("human", human)
      .addWorkflow("add", add)
      .addWorkflow("failing", failing)
      .addWorkflow("fork", fork)
      .addWorkflow("waiting", waiting);
    url = (await server.serve({ host: "127.0.0.1", port: 0 })).url;
    client = new WorkflowClient({ baseUrl: url });
  });
  afterAll(async () => server?.close());

  it("is in the dialect under test for a request that does not choose one", async () => {
    const res = await fetch(`${url}/workflows/waiting/run-nowait`, { method: "POST" });
    expect(((await res.json()) as { status: string }).status).toBe(wire === "seed" ? "started" : "running");
  });

  it("runs, starts, streams, sends and reads results as in the seed's examples", async () => {
    expect(await client.isHealthy()).toBe(true);
    expect(await client.listWorkflows()).toEqual(["greet", "human", "add", "failing", "fork", "waiting"]);
    const ran = await client.runWorkflow("greet", { startEvent: StartEvent.create({ name: "Ada" }) });
    expect(ran).toMatchObject({ status: "completed", result: "Hello, Ada!", workflowName: "greet" });

    const started = await client.runWorkflowNowait("human");
    expect(started).toMatchObject({ status: "started", workflowName: "human" });
    const types: string[] = [];
    for await (const event of client.getWorkflowEvents(started.handlerId)) {
      types.push(event.type);
      if (event.type === "RequestEvent") {
        expect(await client.sendEvent(started.handlerId, ResponseEvent.create({ response: "Ada" }))).toEqual({
          status: "sent",
        });
      }
    }
    expect(types).toEqual(["RequestEvent", "OutEvent"]);
    const result = await client.getResult(started.handlerId);
    expect(result).toMatchObject({ status: "completed", result: { output: "Hello, Ada" } });
    // The handler's own record adds the start event it ran with (issue 15).
    expect(await client.getHandler(started.handlerId)).toEqual({
      ...result,
      startEvent: expect.objectContaining({ type: expect.any(String) }),
    });
  });

  it("gives failed, cancelled and running handlers as handlers, not errors", async () => {
    const failed = await client.runWorkflow("failing");
    expect(failed).toMatchObject({ status: "failed", result: null, error: expect.stringContaining("boom") });
    expect(await client.getHandler(failed.handlerId)).toMatchObject({ status: "failed" });
    expect(await client.getResult(failed.handlerId)).toMatchObject({ status: "failed" });

    const { handlerId } = await client.runWorkflowNowait("waiting");
    expect(await client.getHandler(handlerId)).toMatchObject({ status: "running", result: null });
    expect(await client.getResult(handlerId)).toMatchObject({ status: "running" });
    expect(await client.cancelHandler(handlerId)).toBe("cancelled");
    expect(await client.getHandler(handlerId)).toMatchObject({ status: "cancelled" });
    expect(await client.cancelHandler(handlerId, { purge: true })).toBe("deleted");
    await expect(client.getHandler(handlerId)).rejects.toBeInstanceOf(WorkflowClientError);
  });

  it("pages handlers and follows the pages", async () => {
    const ids: string[] = [];
    for (let i = 0; i < 5; i++)
      ids.push((await client.runWorkflow("add", { startEvent: { a: i, b: 0 } })).handlerId);
    const first = await client.getHandlersPage({ workflowName: "add", limit: 2 });
    expect(first.handlers.map((h) => h.handlerId)).toEqual(ids.slice(-2).reverse());
    expect(first.nextCursor).toEqual(expect.any(String));
    const all: string[] = [];
    for await (const h of client.getHandlers({ workflowName: "add" })) all.push(h.handlerId);
    expect(all).toEqual([...ids].reverse());
    const forked = await client.runWorkflow("fork", { startEvent: { right: true } });
    expect(forked.result).toEqual({ right: 1 });
  });

  it("reads the schemas, the graph and the OpenAPI document", async () => {
    expect(Object.keys(await client.getWorkflowSchema("greet"))).toEqual(["start", "stop"]);
    expect((await client.getEventSchemas("human")).map((s) => s["title"])).toContain("ResponseEvent");
    expect((await client.getWorkflowRepresentation("human")).nodes.length).toBeGreaterThan(0);
    expect(await client.getOpenApi()).toMatchObject({ openapi: expect.stringMatching(/^3\.1/) });
  });
});
