// `waitsFor` seen from outside: a real server on 127.0.0.1:0 and the real client. The events a step
// awaits are listed among the workflow's events, drawn on its graph, and taken from outside; a step
// that awaits an event declared nowhere fails its run with an error that says how to declare it.

import { defineEvent, InputRequiredEvent, StartEvent, StopEvent, Workflow } from "eventloom";
import { WorkflowClient, WorkflowClientError } from "eventloom/client";
import { MemoryStore, WorkflowServer } from "eventloom/server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";

const AskForApproval = defineEvent("WfeAskForApproval", z.object({ question: z.string() }), {
  extends: InputRequiredEvent,
});
// A plain event (not a HumanResponseEvent), so only the declaration lets it in.
const Approval = defineEvent(
  "WfeApproval",
  z.object({ approved: z.boolean(), note: z.string().default("") }),
);

const review = (options: { declare: boolean }) =>
  new Workflow({ name: "Review", timeout: null }).step(
    "review",
    {
      accepts: [StartEvent],
      emits: [AskForApproval, StopEvent],
      ...(options.declare ? { waitsFor: [Approval] } : {}),
    },
    async (ctx) => {
      const answer = await ctx.waitForEvent(Approval, {
        waiterEvent: AskForApproval.create({ question: "Approve?" }),
      });
      return StopEvent.create({ result: answer.data.approved ? `approved${answer.data.note}` : "rejected" });
    },
  );

let server: WorkflowServer;
let client: WorkflowClient;

beforeAll(async () => {
  server = new WorkflowServer({ store: new MemoryStore() });
  server.addWorkflow("declared", review({ declare: true }));
  server.addWorkflow("undeclared", review({ declare: false }));
  const { url } = await server.serve({ host: "127.0.0.1", port: 0 });
  client = new WorkflowClient({ baseUrl: url });
});

afterAll(async () => {
  await server?.close();
});

describe("a step's waitsFor on the server", () => {
  it("lists the awaited event among the workflow's events", async () => {
    const events = await client.getEventSchemas("declared");
    expect(events.map((e) => e["title"])).toEqual([
      "StartEvent",
      "WfeAskForApproval",
      "StopEvent",
      "WfeApproval",
    ]);
    const undeclared = await client.getEventSchemas("undeclared");
    expect(undeclared.map((e) => e["title"])).not.toContain("WfeApproval");
  });

  it("draws the awaited event on the graph: from external_step to the event, and to the step", async () => {
    const graph = await client.getWorkflowRepresentation("declared");
    expect(graph.nodes).toContainEqual(
      expect.objectContaining({ id: "WfeApproval", nodeType: "event", eventType: "WfeApproval" }),
    );
    expect(graph.nodes).toContainEqual({ id: "external_step", label: "external_step", nodeType: "external" });
    expect(graph.edges).toEqual(
      expect.arrayContaining([
        { source: "workflows.events.StartEvent", target: "review" },
        { source: "review", target: "WfeAskForApproval" },
        { source: "WfeAskForApproval", target: "external_step" },
        { source: "external_step", target: "WfeApproval" },
        { source: "WfeApproval", target: "review" },
      ]),
    );
    const undeclared = await client.getWorkflowRepresentation("undeclared");
    expect(undeclared.edges.filter((e) => e.source === "WfeApproval" || e.target === "WfeApproval")).toEqual(
      [],
    );
  });

  it("takes the awaited event from outside and finishes the run with it", async () => {
    const { handlerId } = await client.runWorkflowNowait("declared");
    for await (const ev of client.getWorkflowEvents(handlerId)) {
      if (ev.type === "WfeAskForApproval") {
        await client.sendEvent(handlerId, Approval.create({ approved: true, note: " by Ada" }));
      }
    }
    const result = await client.getResult(handlerId);
    expect(result).toMatchObject({ status: "completed", result: "approved by Ada" });
  });

  it("fails a run whose step awaits an undeclared event, naming the step, the event and the fix", async () => {
    const run = await client.runWorkflow("undeclared");
    expect(run.status).toBe("failed");
    expect(run.error).toContain(
      'Step "review" waits for WfeApproval, which the workflow does not declare: declare it on the step: waitsFor: [WfeApproval]',
    );
  });

  it("answers an event the workflow does not declare with UNKNOWN_EVENT and how to declare it", async () => {
    const { handlerId } = await client.runWorkflowNowait("declared");
    const error = await client.sendEvent(handlerId, { type: "Nudge", value: {} }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(WorkflowClientError);
    expect(error).toMatchObject({
      status: 400,
      code: "UNKNOWN_EVENT",
      detail:
        'Unknown event type "Nudge": the workflow does not declare it (a step that awaits it with ctx.waitForEvent declares it with waitsFor: [Nudge])',
    });
    await client.cancelHandler(handlerId);
  });
});
