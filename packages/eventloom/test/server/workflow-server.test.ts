import { existsSync } from "node:fs";
import { join } from "node:path";
import { StartEvent, StopEvent, Workflow } from "eventloom";
import { isWorkflowServer, MemoryStore, WorkflowServer } from "eventloom/server";
import { afterEach, describe, expect, test } from "vitest";
import { greeting } from "./fixtures.js";
import { BASE, tempDir } from "./helpers.js";

const cleanups: (() => void | Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function withEnv(name: string, value: string | undefined): void {
  const previous = process.env[name];
  if (value === undefined) delete process.env[name];
  else process.env[name] = value;
  cleanups.push(() => {
    if (previous === undefined) delete process.env[name];
    else process.env[name] = previous;
  });
}

describe("WorkflowServer", () => {
  test("addWorkflow refuses a duplicate name and an invalid workflow", () => {
    const server = new WorkflowServer({ store: new MemoryStore() });
    server.addWorkflow("greet", greeting);
    expect(() => server.addWorkflow("greet", greeting)).toThrow(/already registered/);
    const broken = new Workflow({ name: "Broken" }).step(
      "s",
      { accepts: [StartEvent], emits: [] },
      () => undefined,
    );
    expect(() => server.addWorkflow("broken", broken)).toThrow(/stop event/);
    expect(server.workflowNames).toEqual(["greet"]);
  });

  test("carries a Symbol.for brand that another module copy recognises", () => {
    const server = new WorkflowServer({ store: new MemoryStore() });
    expect((server as unknown as Record<symbol, unknown>)[Symbol.for("eventloom.WorkflowServer")]).toBe(true);
    expect(isWorkflowServer(server)).toBe(true);
    expect(isWorkflowServer({})).toBe(false);
  });

  test("without a store it uses SQLite at WORKFLOWS_DB, created on first use", async () => {
    const { dir, remove } = tempDir();
    cleanups.push(remove);
    const path = join(dir, "nested", "wf.db");
    withEnv("WORKFLOWS_DB", path);
    const server = new WorkflowServer();
    server.addWorkflow(
      "ok",
      new Workflow({ name: "Ok" }).step("s", { accepts: [StartEvent], emits: [StopEvent] }, () =>
        StopEvent.create({ result: 1 }),
      ),
    );
    cleanups.push(() => server.close());
    expect(existsSync(path)).toBe(false);
    const res = await server.fetch(new Request(`${BASE}/workflows/ok/run`, { method: "POST" }));
    expect(res.status).toBe(200);
    expect(existsSync(path)).toBe(true);
  });

  test("WORKFLOWS_DB=:memory: keeps everything in memory", async () => {
    withEnv("WORKFLOWS_DB", ":memory:");
    const server = new WorkflowServer();
    cleanups.push(() => server.close());
    expect((await server.fetch(new Request(`${BASE}/health`))).status).toBe(200);
  });

  test("the fetch handler can be detached and mounted elsewhere", async () => {
    const server = new WorkflowServer({ store: new MemoryStore() });
    cleanups.push(() => server.close());
    server.addWorkflow("greet", greeting);
    const { fetch: handle } = server;
    const res = await handle(new Request(`${BASE}/workflows`));
    expect(await res.json()).toEqual({ workflows: ["greet"] });
  });
});
