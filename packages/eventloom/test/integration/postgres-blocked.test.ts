// On a Postgres store shared by several processes, a run that one process's code cannot resume is
// blocked in its record, where every process reads it, and is given up so that a process whose code
// fits (the old version, still running during a rolling deploy) takes it over and clears `blocked`.
import { randomBytes } from "node:crypto";
import { type AnyWorkflow, defineEvent, StartEvent, StopEvent, Workflow } from "eventloom";
import { WorkflowServer } from "eventloom/server";
import { afterEach, expect, it } from "vitest";
import { z } from "zod";
import { PostgresStore } from "../../src/stores/postgres/index.js";
import { callJson } from "../server/helpers.js";
import { useFreshDatabase } from "../support/fresh-database.js";

const TTL_MS = 600;
const db = useFreshDatabase("workflows_blocked");
const servers: WorkflowServer[] = [];
afterEach(async () => {
  await Promise.allSettled(servers.splice(0).map((s) => s.close()));
});

let workBegan = 0;
const Work = defineEvent("pgblocked.Work", z.object({ n: z.number() }));
/** "start" hands Work to a step that never returns; v2 renamed that step. */
const version = (v: "1" | "2"): AnyWorkflow =>
  new Workflow({ name: "deploy", version: v, timeout: null })
    .step("start", { accepts: [StartEvent], emits: [Work] }, () => Work.create({ n: 1 }))
    .step(v === "1" ? "work" : "renamed", { accepts: [Work], emits: [StopEvent] }, () => {
      workBegan++;
      return new Promise<never>(() => {});
    });

function open(schema: string, wf: AnyWorkflow | null): WorkflowServer {
  const server = new WorkflowServer({
    store: new PostgresStore(db.url, { schema }),
    token: "",
    leaseTtlMs: TTL_MS,
  });
  if (wf) server.addWorkflow("deploy", wf);
  servers.push(server);
  return server;
}

const record = async (server: WorkflowServer, id: string) =>
  (await callJson(server, "GET", `/handlers/${id}`)).body;

it("blocks a run in its shared record for every process, and a process whose code fits takes it over and clears it", async () => {
  const schema = `blocked_${randomBytes(4).toString("hex")}`;
  const first = open(schema, version("1"));
  const before = workBegan;
  const started = await callJson(first, "POST", "/workflows/deploy/run-nowait", { start_event: {} });
  const id = started.body["handler_id"] as string;
  await expect.poll(() => workBegan).toBeGreaterThan(before);
  await first.close();

  const v2 = open(schema, version("2"));
  await callJson(v2, "GET", "/health");
  await expect
    .poll(async () => (await record(v2, id))["blocked"])
    .toMatchObject({ code: "WORKFLOW_CHANGED" });

  // A process that runs no workflow at all reads the same record and listing.
  const reader = open(schema, null);
  const listed = await callJson(reader, "GET", "/handlers?blocked=true");
  expect((listed.body["handlers"] as { handler_id: string }[]).map((h) => h.handler_id)).toEqual([id]);

  // v1 comes back beside v2: its takeover resumes the run, which clears `blocked` for everyone.
  const resumedAt = workBegan;
  const v1 = open(schema, version("1"));
  await callJson(v1, "GET", "/health");
  await expect.poll(() => workBegan, { timeout: 15_000 }).toBeGreaterThan(resumedAt);
  await expect.poll(async () => (await record(reader, id))["blocked"]).toBeNull();
  expect(await record(reader, id)).toMatchObject({ status: "running", workflow_version: "1" });
  expect(v1.liveRunCount).toBe(1);
  expect(v2.liveRunCount).toBe(0);
});
