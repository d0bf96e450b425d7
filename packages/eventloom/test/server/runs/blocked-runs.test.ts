// A stored run that the code now loaded cannot resume (its workflow removed, a step renamed) used to
// answer POST /events with "already ended" and cancel with 200 while cancelling nothing. Now sending
// to it is 409 HANDLER_BLOCKED and cancelling it really cancels it in the store.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { defineEvent, HumanResponseEvent, StartEvent, StopEvent, Workflow } from "eventloom";
import { SqliteStore, WorkflowServer } from "eventloom/server";
import { afterEach, beforeEach, expect, it } from "vitest";
import { z } from "zod";
import { callJson } from "../helpers.js";

const Ask = defineEvent("Ask", z.object({}), { extends: HumanResponseEvent });

/** A run that stays in step "first" until the test stops the server. */
const v1 = new Workflow({ name: "deploy", timeout: null })
  .step("first", { accepts: [StartEvent], emits: [StopEvent] }, () => new Promise<never>(() => {}))
  .step("answer", { accepts: [Ask], emits: [StopEvent] }, () => StopEvent.create({ result: "answered" }));

/** The same workflow after a deploy that renamed "first". */
const renamed = new Workflow({ name: "deploy", timeout: null })
  .step("renamed", { accepts: [StartEvent], emits: [StopEvent] }, () => StopEvent.create({ result: "new" }))
  .step("answer", { accepts: [Ask], emits: [StopEvent] }, () => StopEvent.create({ result: "answered" }));

let dir = "";
let path = "";
const servers: WorkflowServer[] = [];
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "eventloom-blocked-"));
  path = join(dir, "w.db");
});
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close();
  rmSync(dir, { recursive: true, force: true });
});

function open(workflow: typeof v1 | typeof renamed | null): WorkflowServer {
  const server = new WorkflowServer({ store: new SqliteStore(path), token: "" });
  if (workflow) server.addWorkflow("deploy", workflow);
  servers.push(server);
  return server;
}

async function restart(
  server: WorkflowServer,
  next: typeof v1 | typeof renamed | null,
): Promise<WorkflowServer> {
  await server.close();
  servers.splice(servers.indexOf(server), 1);
  return open(next);
}

async function startedRun(): Promise<{ server: WorkflowServer; id: string }> {
  const server = open(v1);
  const started = await callJson(server, "POST", "/workflows/deploy/run-nowait", { start_event: {} });
  expect(started.status).toBe(200);
  return { server, id: started.body["handler_id"] as string };
}

for (const [change, next] of [
  ["its workflow was removed", null],
  ["the step it was in was renamed", renamed],
] as const) {
  it(`answers 409 HANDLER_BLOCKED to an event and really cancels a run after a deploy where ${change}`, async () => {
    const first = await startedRun();
    const server = await restart(first.server, next);
    const id = first.id;

    const sent = await callJson(server, "POST", `/events/${id}`, { event: { type: "Ask", value: {} } });
    expect(sent.status).toBe(409);
    expect(sent.body).toMatchObject({ code: "HANDLER_BLOCKED" });
    expect(sent.body["detail"]).toMatch(/cannot go on with the code now loaded/);
    expect((await callJson(server, "GET", `/handlers/${id}`)).body["status"]).toBe("running");

    const cancelled = await callJson(server, "POST", `/handlers/${id}/cancel`);
    expect(cancelled.status).toBe(200);
    const record = (await callJson(server, "GET", `/handlers/${id}`)).body;
    expect(record).toMatchObject({ status: "cancelled" });
    expect(record["completed_at"]).toEqual(expect.any(String));

    // Durable, and final: the code that fits again does not bring it back.
    const again = await restart(server, v1);
    expect((await callJson(again, "GET", `/handlers/${id}`)).body["status"]).toBe("cancelled");
    const events = await again.fetch(new Request(`http://localhost/events/${id}?sse=false`));
    const lines = (await events.text()).trim().split("\n");
    expect(JSON.parse(lines.at(-1) ?? "{}")).toMatchObject({ type: "WorkflowCancelledEvent" });
  });
}

it("resumes a run blocked by a renamed step once the code fits again, however many restarts it was blocked for", async () => {
  const first = await startedRun();
  let server = first.server;
  // More restarts than maxResumeAttempts: a blocked run's code never runs, so they do not count.
  for (let i = 0; i < 4; i++) {
    server = await restart(server, renamed);
    const sent = await callJson(server, "POST", `/events/${first.id}`, { event: { type: "Ask", value: {} } });
    expect(sent.body).toMatchObject({ code: "HANDLER_BLOCKED" });
  }
  server = await restart(server, v1);
  const sent = await callJson(server, "POST", `/events/${first.id}`, { event: { type: "Ask", value: {} } });
  expect(sent.status).toBe(200);
  const done = await callJson(server, "GET", `/handlers/${first.id}`);
  expect(done.body["status"]).not.toBe("failed");
});
