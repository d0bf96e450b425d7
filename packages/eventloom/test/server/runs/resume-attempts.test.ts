// How the server counts resumes of a stored run (see resume-guard.ts): each resume of a run with work
// to do is counted durably before its code runs, a finished step or a clean shutdown clears the count,
// and a run resumed maxResumeAttempts times without either is failed with RESUME_CRASH_LOOP.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { defineEvent, HumanResponseEvent, StartEvent, StopEvent, Workflow } from "eventloom";
import { SqliteStore, WorkflowServer } from "eventloom/server";
import { afterEach, beforeEach, expect, it } from "vitest";
import { z } from "zod";
import { callJson, until } from "../helpers.js";

const Next = defineEvent("Next", z.object({}));
const Go = defineEvent("Go", z.object({}), { extends: HumanResponseEvent });
let openGate: () => void = () => {};
/** How many times "first" has started, in any server of this file. */
let firstRuns = 0;

/** "first" runs until the test opens the gate; "second" never ends. */
const twoSteps = new Workflow({ name: "two-steps", timeout: null })
  .step("first", { accepts: [StartEvent], emits: [Next] }, async () => {
    await new Promise<void>((resolve) => {
      firstRuns++;
      openGate = resolve;
    });
    return Next.create({});
  })
  .step("second", { accepts: [Next], emits: [StopEvent] }, () => new Promise<never>(() => {}));

/** Idle from the start: it waits for a person. */
const waitsForGo = new Workflow({ name: "waits", timeout: null })
  .step("start", { accepts: [StartEvent], emits: [] }, () => undefined)
  .step("go", { accepts: [Go], emits: [StopEvent] }, () => StopEvent.create({ result: "went" }));

let dir = "";
let path = "";
const servers: WorkflowServer[] = [];
const logs: { message: string; details?: Record<string, unknown> }[] = [];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "eventloom-resume-"));
  path = join(dir, "w.db");
  logs.length = 0;
});
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close();
  rmSync(dir, { recursive: true, force: true });
});

function open(maxResumeAttempts?: number): WorkflowServer {
  const note = (message: string, details?: Record<string, unknown>) => {
    logs.push(details ? { message, details } : { message });
  };
  const server = new WorkflowServer({
    store: new SqliteStore(path),
    token: "",
    logger: { info: note, warn: note, error: note },
    ...(maxResumeAttempts === undefined ? {} : { maxResumeAttempts }),
  });
  server.addWorkflow("two-steps", twoSteps);
  server.addWorkflow("waits", waitsForGo);
  servers.push(server);
  return server;
}

async function stop(server: WorkflowServer): Promise<void> {
  await server.close();
  servers.splice(servers.indexOf(server), 1);
}

/** The stored count, read from the file as another process would (the crashes it stands for). */
function attempts(handlerId: string): number {
  const db = new Database(path, { readonly: true });
  try {
    return db
      .prepare("SELECT resume_attempts FROM handlers WHERE handler_id = ?")
      .pluck()
      .get(handlerId) as number;
  } finally {
    db.close();
  }
}

/** As if the last `n` resumes had taken the process down: the count they left behind. */
function crashedBefore(handlerId: string, n: number): void {
  const db = new Database(path);
  db.prepare("UPDATE handlers SET resume_attempts = ? WHERE handler_id = ?").run(n, handlerId);
  db.close();
}

async function startRun(server: WorkflowServer, workflow: string): Promise<string> {
  const started = await callJson(server, "POST", `/workflows/${workflow}/run-nowait`, { start_event: {} });
  expect(started.status).toBe(200);
  return started.body["handler_id"] as string;
}

async function status(server: WorkflowServer, handlerId: string): Promise<Record<string, unknown>> {
  return (await callJson(server, "GET", `/handlers/${handlerId}`)).body;
}

it("counts a resume before the run's code runs, and clears the count when a step finishes", async () => {
  const first = open();
  const id = await startRun(first, "two-steps");
  await stop(first);
  crashedBefore(id, 2);

  const before = firstRuns;
  const second = open();
  await until(async () => (await status(second, id))["status"] === "running");
  await until(() => attempts(id) === 3, { what: "the resume to be counted" });
  await until(() => firstRuns > before, { what: "the resumed step to run again" });
  openGate();
  await until(() => attempts(id) === 0, { what: "the finished step to clear the count" });
  expect((await status(second, id))["status"]).toBe("running");
});

it("fails a run resumed maxResumeAttempts times without a finished step with RESUME_CRASH_LOOP, and logs it", async () => {
  const first = open(2);
  const id = await startRun(first, "two-steps");
  await stop(first);
  crashedBefore(id, 2);

  const second = open(2);
  await until(async () => (await status(second, id))["status"] === "failed");
  const record = await status(second, id);
  expect(record["error"]).toMatch(/^RESUME_CRASH_LOOP: .*2 times.*"first"/);
  expect(logs).toContainEqual({
    message: expect.stringMatching(/stopped resuming/),
    details: expect.objectContaining({ handlerId: id, resumeAttempts: 2, steps: ["first"] }),
  });
  await stop(second);
  const third = open(2);
  expect((await status(third, id))["status"]).toBe("failed");
});

it("does not count a resume that ended in a clean shutdown", async () => {
  const first = open();
  const id = await startRun(first, "two-steps");
  await stop(first);
  crashedBefore(id, 1);
  const second = open();
  expect((await status(second, id))["status"]).toBe("running");
  await until(() => attempts(id) === 2, { what: "the resume to be counted" });
  await stop(second);
  expect(attempts(id)).toBe(0);
});

it("neither counts nor stops resuming an idle run, which runs no code by being resumed", async () => {
  const first = open(1);
  const id = await startRun(first, "waits");
  await until(async () => (await status(first, id))["status"] === "running");
  await stop(first);
  crashedBefore(id, 1);

  const second = open(1);
  const sent = await callJson(second, "POST", `/events/${id}`, { event: { type: "Go", value: {} } });
  expect(sent.status).toBe(200);
  await until(async () => (await status(second, id))["status"] === "completed");
  expect((await status(second, id))["result"]).toBe("went");
});

it("refuses a maxResumeAttempts that is not a whole number of at least 1", () => {
  expect(() => new WorkflowServer({ token: "", maxResumeAttempts: 0 })).toThrow(/maxResumeAttempts/);
  expect(() => new WorkflowServer({ token: "", maxResumeAttempts: 1.5 })).toThrow(/maxResumeAttempts/);
});
