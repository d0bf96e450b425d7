import {
  defineEvent,
  HumanResponseEvent,
  InputRequiredEvent,
  StartEvent,
  StopEvent,
  Workflow,
} from "eventloom";
import { WorkflowClient, WorkflowClientError } from "eventloom/client";
import { MemoryStore, WorkflowServer } from "eventloom/server";
import { afterEach, describe, expect, test } from "vitest";
import { z } from "zod";
import { approval } from "../examples/approval.js";

// POST /events took any event the workflow knew: a StopEvent sent to the approval example while it
// waited for a person ended the run "approved" with any result, a step-to-step event skipped the
// step that should have produced it, a StartEvent ran the first step again. Only events that may
// come from outside are taken now (round 2 §3); `acceptAnyEvent` gives the old behaviour back.

const Ask = defineEvent("PayAsk", z.object({ amount: z.number() }), { extends: InputRequiredEvent });
const Decision = defineEvent("PayDecision", z.object({ ok: z.boolean() }), { extends: HumanResponseEvent });
const Approved = defineEvent("PayApproved", z.object({ amount: z.number() }));
const PayStart = defineEvent("PayStart", z.object({ amount: z.number() }), { extends: StartEvent });

/** review waits for a person, then hands over to pay: PayApproved is a step-to-step event. */
const payment = new Workflow({ name: "Payment", timeout: null })
  .step(
    "review",
    { accepts: [PayStart], emits: [Ask, Approved, StopEvent], waitsFor: [Decision] },
    async (ctx, ev) => {
      const decision = await ctx.waitForEvent(Decision, {
        waiterEvent: Ask.create({ amount: ev.data.amount }),
      });
      return decision.data.ok
        ? Approved.create({ amount: ev.data.amount })
        : StopEvent.create({ result: "refused" });
    },
  )
  .step("pay", { accepts: [Approved], emits: [StopEvent] }, async (_ctx, ev) =>
    StopEvent.create({ result: `paid ${ev.data.amount}` }),
  );

let server: WorkflowServer | null = null;
afterEach(async () => {
  await server?.close();
  server = null;
});

async function start(acceptAnyEvent = false): Promise<{ client: WorkflowClient; store: MemoryStore }> {
  const store = new MemoryStore();
  server = new WorkflowServer({ store });
  server.addWorkflow("approval", approval, { acceptAnyEvent });
  server.addWorkflow("payment", payment, { acceptAnyEvent });
  const { url } = await server.serve({ host: "127.0.0.1", port: 0 });
  return { client: new WorkflowClient({ baseUrl: url }), store };
}

/** A run that waits for its person (its question is in the store). */
async function waitingRun(
  client: WorkflowClient,
  workflow: string,
  startEvent: Record<string, unknown>,
): Promise<string> {
  const { handlerId } = await client.runWorkflowNowait(workflow, { startEvent });
  // The question is out: the run waits for its person.
  for await (const ev of client.getWorkflowEvents(handlerId)) {
    if (ev.type === "ApprovalRequested" || ev.type === "PayAsk") break;
  }
  return handlerId;
}

/** The run's result once it ended. */
async function result(client: WorkflowClient, handlerId: string): Promise<unknown> {
  for await (const _ of client.getWorkflowEvents(handlerId)) {
    // to the end of the stream: the run has ended
  }
  return (await client.getResult(handlerId)).result;
}

async function refusal(send: Promise<unknown>): Promise<WorkflowClientError> {
  const error = await send.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(WorkflowClientError);
  return error as WorkflowClientError;
}

describe("POST /events takes only what may come from outside", () => {
  test("a StopEvent sent to the approval example while it waits is a 400 naming the accepted events; the run still waits", async () => {
    const { client } = await start();
    const id = await waitingRun(client, "approval", { item: "a yacht", amount: 9_000_000 });
    const error = await refusal(client.sendEvent(id, { type: "StopEvent", value: { result: "approved" } }));
    expect(error).toMatchObject({ status: 400, code: "EVENT_NOT_ACCEPTED_FROM_OUTSIDE" });
    expect(error.detail).toContain("accepted: Approval");
    expect(error.issues).toEqual([{ path: "event.type", message: expect.stringContaining("Approval") }]);
    expect((await client.getHandler(id)).status).toBe("running");
    await client.sendEvent(id, { type: "Approval", value: { approved: false } });
    expect(await result(client, id)).toBe("a yacht: rejected");
  });

  test("a StartEvent (the workflow's own start event too) is refused: it does not run the first step again", async () => {
    const { client, store } = await start();
    const id = await waitingRun(client, "approval", { item: "a desk", amount: 300 });
    const before = await store.lastSequence(id);
    const own = await refusal(
      client.sendEvent(id, { type: "ExpenseInput", value: { item: "x", amount: 1 } }),
    );
    expect(own).toMatchObject({ status: 400, code: "EVENT_NOT_ACCEPTED_FROM_OUTSIDE" });
    // The plain StartEvent is not among this workflow's events at all.
    const plain = await refusal(client.sendEvent(id, { type: "StartEvent", value: {} }));
    expect(plain).toMatchObject({ status: 400, code: "UNKNOWN_EVENT" });
    expect(await store.lastSequence(id)).toBe(before);
  });

  test("a step-to-step event sent right after start does not skip the step that should produce it", async () => {
    const { client } = await start();
    const id = await waitingRun(client, "payment", { amount: 500 });
    const error = await refusal(client.sendEvent(id, { type: "PayApproved", value: { amount: 500 } }));
    expect(error).toMatchObject({ status: 400, code: "EVENT_NOT_ACCEPTED_FROM_OUTSIDE" });
    expect(error.detail).toContain("accepted: PayDecision");
    await client.sendEvent(id, { type: "PayDecision", value: { ok: false } });
    expect(await result(client, id)).toBe("refused");
  });

  test("with acceptAnyEvent the workflow takes any event it knows, as the seed did", async () => {
    const { client } = await start(true);
    const id = await waitingRun(client, "payment", { amount: 500 });
    await client.sendEvent(id, { type: "PayApproved", value: { amount: 500 } });
    expect(await result(client, id)).toBe("paid 500");
  });
});
