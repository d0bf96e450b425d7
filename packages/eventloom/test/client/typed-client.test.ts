// The typed client: `WorkflowClient<typeof workflows>` with a type-only import checks start events
// at compile time (`npx tsc -p packages/eventloom/tsconfig.json` fails on an unused
// expect-error directive below), and behaves like the untyped client at run time.

import { StartEvent } from "eventloom";
import { type StartEventFor, WorkflowClient } from "eventloom/client";
import { MemoryStore, WorkflowServer } from "eventloom/server";
import { afterAll, beforeAll, describe, expect, expectTypeOf, it } from "vitest";
import type { workflows } from "./fixtures/typed-server.js";
import { Answer, greeting, loose, NameStart, type OrderStart, ordering } from "./fixtures/typed-server.js";

let server: WorkflowServer;
let client: WorkflowClient<typeof workflows>;

beforeAll(async () => {
  server = new WorkflowServer({ store: new MemoryStore() });
  server.addWorkflow("greet", greeting).addWorkflow("loose", loose).addWorkflow("order", ordering);
  const { url } = await server.serve({ host: "127.0.0.1", port: 0 });
  client = new WorkflowClient<typeof workflows>({ baseUrl: url });
});

afterAll(async () => {
  await server?.close();
});

describe("WorkflowClient<typeof workflows>", () => {
  it("takes the workflow's own start event, made by create or as its fields", async () => {
    const made = await client.runWorkflow("greet", { startEvent: NameStart.create({ name: "Ada" }) });
    const fields = await client.runWorkflow("greet", { startEvent: { name: "Bo" } });
    expect([made.result, fields.result]).toEqual(["Hello, Ada!", "Hello, Bo!"]);
  });

  it("rejects at compile time a start event of the wrong type or with wrong fields", async () => {
    const wrongEvent = client.runWorkflowNowait("greet", {
      // @ts-expect-error Answer is not greet's start event
      startEvent: Answer.create({ text: "x" }),
    });
    // @ts-expect-error name must be a string
    const wrongField = client.runWorkflowNowait("greet", { startEvent: { name: 5 } });
    // the server agrees with the compiler
    await expect(wrongEvent).rejects.toMatchObject({ status: 400 });
    await expect(wrongField).rejects.toMatchObject({ status: 400, code: "VALIDATION_ERROR" });
  });

  it("takes the start event's input: fields with a default or optional may be left out", async () => {
    const run = await client.runWorkflow("order", { startEvent: { item: "desk" } });
    expect(run.result).toBe("1 × desk");
    expectTypeOf<StartEventFor<typeof workflows, "order">>().toEqualTypeOf<
      | ReturnType<typeof OrderStart.create>
      | { item: string; quantity?: number | undefined; note?: string | undefined }
    >();
    // @ts-expect-error item is required, whatever has a default
    const missing = client.runWorkflowNowait("order", { startEvent: { quantity: 2 } });
    await expect(missing).rejects.toMatchObject({ status: 400, code: "VALIDATION_ERROR" });
  });

  it("leaves a workflow whose start event is StartEvent, and names it does not know, loose", async () => {
    const run = await client.runWorkflow("loose", { startEvent: StartEvent.create({ anything: 1 }) });
    expect(run.result).toEqual({ anything: 1 });
    await expect(client.runWorkflow("not-typed", { startEvent: { whatever: true } })).rejects.toMatchObject({
      status: 404,
    });
  });

  it("infers the start event input from the workflow map", () => {
    expectTypeOf<StartEventFor<typeof workflows, "greet">>().toEqualTypeOf<
      ReturnType<typeof NameStart.create> | { name: string }
    >();
  });
});
