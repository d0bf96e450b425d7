import { execFile } from "node:child_process";
import { existsSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { promisify } from "node:util";
import { StartEvent, StopEvent, Workflow } from "eventloom";
import { isWorkflowServer, MemoryStore, WorkflowServer } from "eventloom/server";
import { afterEach, describe, expect, test } from "vitest";
import { createDefaultStore } from "../../src/server/default-store.js";
import { PostgresStore } from "../../src/stores/postgres/index.js";
import { greeting } from "./fixtures.js";
import { BASE, tempDir } from "./helpers.js";

const run = promisify(execFile);
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

describe("the default store for a postgres:// WORKFLOWS_DB", () => {
  test("is a PostgresStore, loaded only then (pg is an optional peer dependency)", async () => {
    const store = await createDefaultStore({ WORKFLOWS_DB: "postgres://postgres@127.0.0.1:5432/postgres" });
    cleanups.push(() => store.close());
    expect(store).toBeInstanceOf(PostgresStore);
  });

  test("without the pg package, fails with one line saying to npm install pg", async () => {
    // In a child Node (vitest's own resolver would find the repository's pg): a module that imports
    // pg from a folder where no node_modules has it, as in a project without pg.
    const { dir, remove } = tempDir();
    cleanups.push(remove);
    const module = join(dir, "needs-pg.mjs");
    writeFileSync(module, 'import pg from "pg";\nexport const PostgresStore = pg.Pool;\n');
    const source = new URL("../../src/server/default-store.ts", import.meta.url).href;
    const script = `const { importPostgres } = await import(${JSON.stringify(source)});
importPostgres(${JSON.stringify(pathToFileURL(module).href)}).then(
  () => console.log("loaded"),
  (error) => console.log(JSON.stringify({ message: error.message, code: error.cause?.code })),
);`;
    const tsx = createRequire(import.meta.url).resolve("tsx");
    const { stdout } = await run(process.execPath, ["--import", tsx, "--input-type=module", "-e", script]);
    expect(JSON.parse(stdout)).toEqual({
      message:
        "WORKFLOWS_DB is a postgres:// URL but the `pg` package is not installed: run `npm install pg`",
      code: "ERR_MODULE_NOT_FOUND",
    });
  });
});
