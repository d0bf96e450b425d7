// Smoke test: every demo workflow runs in process to its expected result.
import { WorkflowClient } from "eventloom/client";
import { MemoryStore, WorkflowServer } from "eventloom/server";
import { describe, expect, it } from "vitest";
import { Approval, ApprovalRequested, approval } from "./approval.js";
import { counter } from "./counter-state.js";
import demoServer from "./demo-server.js";
import { fanOut } from "./fan-out.js";
import { flaky } from "./flaky.js";
import { greeting, StreamEvent } from "./greeting-server.js";
import { human, OutEvent, RequestEvent, ResponseEvent } from "./human-in-the-loop-server.js";
import { math } from "./math.js";
import { main as myClient } from "./my-client.js";
import myServer, { workflows } from "./my-server.js";
import { TripRequest, tripPlanner } from "./trip-planner.js";

describe("examples", () => {
  it("greeting streams three StreamEvents and greets by name", async () => {
    const handler = greeting.run({ name: "Ada" });
    const streamed: number[] = [];
    for await (const ev of handler.stream()) if (StreamEvent.is(ev)) streamed.push(ev.data.sequence);
    expect(await handler).toBe("Hello, Ada!");
    expect(streamed).toEqual([0, 1, 2]);
  });

  it("human asks for a name and greets with the answer", async () => {
    const handler = human.run();
    for await (const ev of handler.stream()) {
      if (RequestEvent.is(ev)) handler.sendEvent(ResponseEvent.create({ response: "Ada" }));
    }
    expect(OutEvent.schema.parse(await handler)).toEqual({ output: "Hello, Ada" });
  });

  it("math returns the four results of a and b", async () => {
    expect(await math.run({ a: 12, b: 3 })).toEqual({
      sum: 15,
      subtraction: 9,
      multiplication: 36,
      division: 4,
    });
    expect(await math.run({ a: 1, b: 0 })).toMatchObject({ division: null });
  });

  it("math rejects a start event without numbers", () => {
    expect(() => math.run({ a: "x" } as never)).toThrow(/MathInput/);
  });

  it("fan-out counts every word with its workers and gathers them all", async () => {
    expect(await fanOut.run({ words: ["a", "bb", "ccc", "dddd", "eeeee"] })).toEqual({
      words: 5,
      letters: 15,
    });
  });

  it("counter loops on its state until the target and goes on when continued", async () => {
    const first = counter.run({ target: 3 });
    expect(await first).toEqual({ count: 3, history: [1, 2, 3] });
    const second = counter.run({ target: 2 }, { context: first.context });
    expect(await second).toEqual({ count: 4, history: [1, 2, 3, 4] });
  });

  it("approval waits for an Approval after asking for it", async () => {
    const handler = approval.run({ item: "a desk", amount: 300 });
    for await (const ev of handler.stream()) {
      if (ApprovalRequested.is(ev)) {
        expect(ev.data.question).toBe("Approve a desk for $300?");
        handler.sendEvent(Approval.create({ approved: true, comment: "fine" }));
      }
    }
    expect(await handler).toBe("a desk: approved (fine)");
  });

  it("flaky succeeds on the attempt after its failures", async () => {
    expect(await flaky.run({ failures: 2 })).toEqual({ attempts: 3 });
  });

  it("flaky fails the run, naming the step, when every attempt fails", async () => {
    await expect(flaky.run({ failures: 5 })).rejects.toThrow(/call_api.*5 attempt/);
  });

  it("trip planner fills the defaults of its nested, optional start event", async () => {
    expect(await tripPlanner.run(TripRequest.create({ traveller: { name: "Ada" } }))).toEqual({
      summary: "3 nights in Lisbon for Ada",
      costPerNight: 120,
    });
    expect(
      await tripPlanner.run(
        TripRequest.create({
          traveller: { name: "Ada" },
          nights: 2,
          budget: "high",
          interests: ["food"],
          flight: { cabin: "business", direct: true },
        }),
      ),
    ).toEqual({
      summary: "2 nights in Lisbon for Ada, for food, flying business, direct",
      costPerNight: 300,
    });
  });

  it("the demo server registers every example", () => {
    expect(demoServer.workflowNames).toEqual([
      "greet",
      "human",
      "math",
      "fan-out",
      "counter",
      "approval",
      "flaky",
      "trip-planner",
    ]);
  });

  it("the README's server and typed client work together over HTTP", async () => {
    expect(myServer.workflowNames).toEqual(["greet", "human"]);
    const server = new WorkflowServer({ store: new MemoryStore() });
    for (const [name, workflow] of Object.entries(workflows)) server.addWorkflow(name, workflow);
    const { url } = await server.serve({ host: "127.0.0.1", port: 0 });
    try {
      expect(await myClient(url)).toEqual(["Hello, Ada!", "Hello, Bo"]);
      const client = new WorkflowClient<typeof workflows>({ baseUrl: url });
      // @ts-expect-error the README's promise: a misspelt start field does not compile
      const typo = client.runWorkflow("greet", { startEvent: { nmae: "Ada" } });
      await expect(typo).rejects.toMatchObject({ status: 400, code: "VALIDATION_ERROR" });
    } finally {
      await server.close();
    }
  });
});
