import { join } from "node:path";
import { WorkflowClient } from "eventloom/client";
import { SqliteStore, type WorkflowServer } from "eventloom/server";
import { afterEach, beforeEach, expect, test } from "vitest";
import { makeServer, tempDir, until } from "../helpers.js";

// Issue 15: GET /handlers?waiting=true, the debugger's "Waiting for input" view, over a real socket
// and a SQLite file.

let dir: ReturnType<typeof tempDir>;
let server: WorkflowServer;
let client: WorkflowClient;

beforeEach(async () => {
  dir = tempDir();
  server = makeServer({ store: new SqliteStore(join(dir.dir, "w.db")) });
  const { url } = await server.serve({ host: "127.0.0.1", port: 0 });
  client = new WorkflowClient({ baseUrl: url });
});
afterEach(async () => {
  await server.close();
  dir.remove();
});

const waitingIds = async () =>
  (await client.getHandlersPage({ waiting: true })).handlers.map((h) => h.handlerId);

test("lists the running handlers that ask for input, across workflows, each with its question", async () => {
  const human = (await client.runWorkflowNowait("human")).handlerId;
  const approval = (await client.runWorkflowNowait("approval")).handlerId;
  const done = (await client.runWorkflow("greet", { startEvent: { name: "Ada" } })).handlerId;
  const working = (await client.runWorkflowNowait("waiting")).handlerId; // running, asks nothing
  await until(async () => (await waitingIds()).length === 2);

  const page = await client.getHandlersPage({ waiting: true });
  expect(page.handlers.map((h) => h.handlerId).sort()).toEqual([human, approval].sort());
  const byId = new Map(page.handlers.map((h) => [h.handlerId, h]));
  expect(byId.get(human)?.waitingFor).toMatchObject({
    type: "RequestEvent",
    value: { prompt: expect.any(String) },
  });
  expect(byId.get(approval)?.waitingFor).toMatchObject({
    type: "AskApproval",
    value: { question: "Approve?" },
  });
  expect(page.handlers.every((h) => h.status === "running")).toBe(true);
  for (const id of [done, working]) expect(await waitingIds()).not.toContain(id);
  // The plain listing carries no question.
  expect((await client.getHandlersPage({ status: "running" })).handlers.some((h) => h.waitingFor)).toBe(
    false,
  );

  // Answered, it leaves the list.
  await client.sendEvent(approval, { type: "Approval", value: { approved: true } });
  await until(async () => !(await waitingIds()).includes(approval));
  expect(await waitingIds()).toEqual([human]);
});
