// Regression: two requests exactly as LlamaIndex's Python `WorkflowClient` sends them went wrong.
// - `get_handlers()` always sends `status=&workflow_name=`: the empty `status` was a 400, and the
//   empty `workflow_name` filtered on the name "" (no handler ever matched).
// - `StartEvent(name="John")` is serialized as `{"_data": {"name": "John"}}`: the wrapper was taken as
//   the start event's fields, so the greeting said "Hello, World!".
//
// Fixed: an empty query value means the parameter was not given, and an object whose only key is
// `_data` holds the event's fields, as a bare start event or as an envelope's value.
import { MemoryStore, WorkflowServer } from "eventloom/server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { greeting, human } from "../server/fixtures.js";

let server: WorkflowServer;
let url: string;

beforeAll(async () => {
  server = new WorkflowServer({ store: new MemoryStore() });
  server.addWorkflow("greet", greeting);
  server.addWorkflow("human", human);
  url = (await server.serve({ host: "127.0.0.1", port: 0 })).url;
});
afterAll(async () => server.close());

async function post(path: string, body: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${url}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

describe("regression: requests as LlamaIndex's Python client sends them", () => {
  it("treats empty status and workflow_name query values as no filter", async () => {
    const started = await post("/workflows/human/run-nowait", {});
    expect(started.status).toBe(200);
    const res = await fetch(`${url}/handlers?status=&workflow_name=`);
    expect(res.status).toBe(200);
    const ids = ((await res.json()) as { handlers: { handler_id: string }[] }).handlers.map(
      (h) => h.handler_id,
    );
    expect(ids).toContain(started.body["handler_id"]);
  });

  it("still filters by a non-empty value next to an empty one", async () => {
    const res = await fetch(`${url}/handlers?status=&status=completed&workflow_name=`);
    expect(res.status).toBe(200);
    const handlers = ((await res.json()) as { handlers: { status: string }[] }).handlers;
    expect(handlers.every((h) => h.status === "completed")).toBe(true);
  });

  it("unwraps a start event sent as {_data: {...}}", async () => {
    const ran = await post("/workflows/greet/run", { start_event: { _data: { name: "John" } } });
    expect(ran.status).toBe(200);
    expect(ran.body["result"]).toBe("Hello, John!");
  });

  it("unwraps _data inside an envelope's value too", async () => {
    const ran = await post("/workflows/greet/run", {
      start_event: { type: "StartEvent", value: { _data: { name: "Ada" } } },
    });
    expect(ran.body["result"]).toBe("Hello, Ada!");
  });
});
