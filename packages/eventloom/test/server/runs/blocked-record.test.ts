// A deploy that renamed a step, removed a workflow or changed a schema used to leave its runs
// `running` forever with nothing saying so: no field in the record, no listing, no log line, and a
// step received `n: 1` where its type now said string. Now the record carries `blocked` (durably:
// every process and the debugger read it), `GET /handlers?blocked=true` lists them, the server logs
// one line per blocked run, and code that fits again resumes them and clears `blocked`.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  type AnyWorkflow,
  defineEvent,
  HumanResponseEvent,
  StartEvent,
  StopEvent,
  Workflow,
} from "eventloom";
import { type ServerLogger, SqliteStore, WorkflowServer } from "eventloom/server";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { z } from "zod";
import { callJson } from "../helpers.js";

const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

/** How many times a step "work" began, in this process. */
let workBegan = 0;

/** Step "start" hands `Work` to step "work", which never returns: the run stays with Work in flight. */
function workflow(options: {
  version: string;
  work: z.ZodObject;
  workStep?: string;
  state?: z.ZodObject;
}): AnyWorkflow {
  const Work = defineEvent("blocked.Work", options.work);
  return new Workflow({ name: "deploy", version: options.version, timeout: null, state: options.state })
    .step("start", { accepts: [StartEvent], emits: [Work] }, () => Work.create({ n: 1 }))
    .step(options.workStep ?? "work", { accepts: [Work], emits: [StopEvent] }, () => {
      workBegan++;
      return new Promise<never>(() => {});
    });
}

const v1 = () => workflow({ version: "1", work: z.object({ n: z.number() }) });

let dir = "";
let path = "";
const servers: WorkflowServer[] = [];
let lines: { message: string; details: Record<string, unknown> | undefined }[] = [];
const logger: ServerLogger = {
  info: () => {},
  warn: (message, details) => lines.push({ message, details }),
  error: (message, details) => lines.push({ message, details }),
};
const blockedLines = () => lines.filter((l) => l.message.startsWith("run blocked"));

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "eventloom-blocked-record-"));
  path = join(dir, "w.db");
  lines = [];
});
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close();
  rmSync(dir, { recursive: true, force: true });
});

function open(wf: AnyWorkflow | null): WorkflowServer {
  const server = new WorkflowServer({ store: new SqliteStore(path), token: "", logger });
  if (wf) server.addWorkflow("deploy", wf, { acceptAnyEvent: true }); // the test sends the step-to-step Work from outside
  servers.push(server);
  return server;
}

async function restart(server: WorkflowServer, next: AnyWorkflow | null): Promise<WorkflowServer> {
  await server.close();
  servers.splice(servers.indexOf(server), 1);
  return open(next);
}

/** A run of v1 whose Work is in flight in step "work", on a server that is then closed. */
async function stranded(): Promise<{ server: WorkflowServer; id: string }> {
  const server = open(v1());
  const before = workBegan;
  const started = await callJson(server, "POST", "/workflows/deploy/run-nowait", { start_event: {} });
  expect(started.status).toBe(200);
  const id = started.body["handler_id"] as string;
  // Closing the server writes the state as it stands: Work in flight in step "work".
  await expect.poll(() => workBegan).toBeGreaterThan(before);
  return { server, id };
}

const record = async (server: WorkflowServer, id: string) =>
  (await callJson(server, "GET", `/handlers/${id}`)).body;
const blockedIds = async (server: WorkflowServer, value = "true") =>
  (
    (await callJson(server, "GET", `/handlers?blocked=${value}`)).body["handlers"] as { handler_id: string }[]
  ).map((h) => h.handler_id);

describe("a run the code now loaded cannot resume", () => {
  it("is recorded blocked with WORKFLOW_CHANGED naming the renamed step, listed by ?blocked=true, logged once, and resumed with blocked cleared when the code fits again", async () => {
    const first = await stranded();
    expect(await record(first.server, first.id)).toMatchObject({ workflow_version: "1", blocked: null });

    const renamed = workflow({ version: "2", work: z.object({ n: z.number() }), workStep: "renamed" });
    let server = await restart(first.server, renamed);
    await server.fetch(new Request("http://localhost/health")); // starts it: the resume runs
    const blocked = await record(server, first.id);
    expect(blocked["status"]).toBe("running");
    expect(blocked["workflow_version"]).toBe("1");
    expect(blocked["blocked"]).toMatchObject({ code: "WORKFLOW_CHANGED", since: expect.stringMatching(ISO) });
    expect((blocked["blocked"] as { detail: string }).detail).toContain('step "work" is gone');
    expect(await blockedIds(server)).toEqual([first.id]);
    expect(await blockedIds(server, "false")).toEqual([]);

    // Sending to it is refused with the reason; that and a second look log nothing more.
    const sent = await callJson(server, "POST", `/events/${first.id}`, {
      event: { type: "Work", value: { n: 2 } },
    });
    expect(sent.status).toBe(409);
    expect(sent.body).toMatchObject({ code: "HANDLER_BLOCKED" });
    expect(sent.body["detail"]).toContain('step "work" is gone');
    expect(blockedLines()).toHaveLength(1);
    expect(blockedLines()[0]?.details).toMatchObject({ handlerId: first.id, code: "WORKFLOW_CHANGED" });

    // Another restart on the same code: the same `since`, one line again for this process.
    const since = (blocked["blocked"] as { since: string }).since;
    server = await restart(server, renamed);
    await server.fetch(new Request("http://localhost/health"));
    expect(await record(server, first.id)).toMatchObject({ blocked: { since } });

    server = await restart(server, v1());
    await server.fetch(new Request("http://localhost/health"));
    await expect.poll(async () => (await record(server, first.id))["blocked"]).toBeNull();
    expect(await record(server, first.id)).toMatchObject({ status: "running", workflow_version: "1" });
    expect(await blockedIds(server)).toEqual([]);
  });

  it("is blocked with WORKFLOW_CHANGED naming the workflow when it was removed", async () => {
    const first = await stranded();
    const server = await restart(first.server, null);
    await server.fetch(new Request("http://localhost/health"));
    const blocked = (await record(server, first.id))["blocked"] as { code: string; detail: string };
    expect(blocked.code).toBe("WORKFLOW_CHANGED");
    expect(blocked.detail).toContain('workflow "deploy" is not registered');
    expect(await blockedIds(server)).toEqual([first.id]);
  });

  it("is blocked with SCHEMA_CHANGED naming the event and the field when a stored event no longer fits its schema", async () => {
    const first = await stranded();
    const server = await restart(first.server, workflow({ version: "2", work: z.object({ n: z.string() }) }));
    await server.fetch(new Request("http://localhost/health"));
    const blocked = (await record(server, first.id))["blocked"] as { code: string; detail: string };
    expect(blocked.code).toBe("SCHEMA_CHANGED");
    expect(blocked.detail).toMatch(/^Work \(.*\) no longer fits its schema: field "n": .*expected string/);
    // The step never received `n: 1` as a string: it did not run.
    expect(await record(server, first.id)).toMatchObject({ status: "running" });
  });

  it("is blocked with SCHEMA_CHANGED naming the field when its state no longer fits the state schema", async () => {
    const withState = (count: z.ZodType) =>
      workflow({ version: "s", work: z.object({ n: z.number() }), state: z.object({ count: count }) });
    const server0 = open(withState(z.number().default(0)));
    const started = await callJson(server0, "POST", "/workflows/deploy/run-nowait", { start_event: {} });
    const id = started.body["handler_id"] as string;
    await expect.poll(async () => (await record(server0, id))["updated_at"]).toBeDefined();
    const server = await restart(server0, withState(z.string().default("")));
    await server.fetch(new Request("http://localhost/health"));
    const blocked = (await record(server, id))["blocked"] as { code: string; detail: string };
    expect(blocked.code).toBe("SCHEMA_CHANGED");
    expect(blocked.detail).toMatch(/state no longer fits the workflow's state schema: field "count"/);
  });

  it("resumes without blocking after safe changes: an optional field added, a step added, a new version", async () => {
    const first = await stranded();
    const Extra = defineEvent("blocked.Extra", z.object({}), { extends: HumanResponseEvent });
    const safe = (
      workflow({ version: "3", work: z.object({ n: z.number(), note: z.string().optional() }) }) as Workflow
    ).step("added", { accepts: [Extra], emits: [StopEvent] }, () => StopEvent.create({}));
    const before = workBegan;
    const server = await restart(first.server, safe);
    await server.fetch(new Request("http://localhost/health"));
    await expect.poll(() => workBegan).toBeGreaterThan(before);
    // Its Work runs again in step "work" (in flight at the restart), so the record is written again.
    expect(await record(server, first.id)).toMatchObject({ blocked: null, workflow_version: "1" });
    expect(await blockedIds(server)).toEqual([]);
    expect(blockedLines()).toEqual([]);
  });
});
