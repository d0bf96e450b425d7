import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { MemoryStore, WorkflowServer } from "eventloom/server";
import { afterEach, expect, test } from "vitest";

const root = fileURLToPath(new URL("../../../../../", import.meta.url));
let server: WorkflowServer | null = null;
afterEach(async () => {
  await server?.close();
  delete process.env["WORKFLOWS_DB"];
});

test("the seed's client example runs unchanged against the seed's example workflows", async () => {
  // the example modules build their own default-store servers on import: keep those in memory
  process.env["WORKFLOWS_DB"] = ":memory:";
  const { greeting } = await import(`${root}examples/greeting-server.ts`);
  const { human } = await import(`${root}examples/human-in-the-loop-server.ts`);
  server = new WorkflowServer({ store: new MemoryStore() });
  server.addWorkflow("greet", greeting);
  server.addWorkflow("human", human);
  const { url } = await server.serve({ host: "127.0.0.1", port: 0 });
  const { stdout } = await promisify(execFile)(
    "npx",
    ["tsx", "--tsconfig", "examples/tsconfig.json", "examples/client.ts"],
    { cwd: root, env: { ...process.env, WORKFLOWS_URL: url }, timeout: 60_000 },
  );
  expect(stdout).toContain("Final result: Hello, John! (status: completed)");
  expect(stdout).toContain("Workflow is requiring human input: What is your name?");
  expect(stdout).toContain("Received final message: Hello, Ada");
}, 90_000);
