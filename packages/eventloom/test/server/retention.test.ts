// Nothing was ever deleted: 100k trivial runs made 229 MiB, and purging 20k of them took 20k requests
// and gave no space back. With `retention`, ended handlers older than their status's age are deleted
// in the background (on the server's clock, in batches), everything stored for them with them, the
// file shrinks, and nothing running or blocked is touched.
import { mkdtempSync, rmSync, statSync } from "node:fs";
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
import { SqliteStore, WorkflowServer, type WorkflowServerOptions } from "eventloom/server";
import { afterEach, beforeEach, expect, it } from "vitest";
import { z } from "zod";
import { FakeClock } from "../core/fake-clock.js";
import { retentionReadiness } from "../support/sqlite-file.js";
import { callJson, until } from "./helpers.js";

const HOUR = 3_600_000;
const Reply = defineEvent("retention.Reply", z.object({}), { extends: HumanResponseEvent });
const big = new Workflow({ name: "big", timeout: null }).step(
  "big",
  { accepts: [StartEvent], emits: [StopEvent] },
  (ctx) => {
    for (let i = 0; i < 4; i++) ctx.writeEventToStream(StopEvent.create({ result: "s".repeat(20_000) }));
    return StopEvent.create({ result: "r".repeat(50_000) });
  },
);
const fail = new Workflow({ name: "fail", timeout: null }).step(
  "fail",
  { accepts: [StartEvent], emits: [StopEvent] },
  () => {
    throw new Error("no");
  },
);
const wait = (name: string) =>
  new Workflow({ name, timeout: null })
    .step("ask", { accepts: [StartEvent], emits: [StopEvent] }, () => undefined)
    .step("answer", { accepts: [Reply], emits: [StopEvent] }, () => StopEvent.create({ result: "done" }));

let dir = "";
let path = "";
const servers: WorkflowServer[] = [];
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "eventloom-retention-"));
  path = join(dir, "w.db");
});
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close();
  rmSync(dir, { recursive: true, force: true });
});

function open(workflows: Record<string, AnyWorkflow>, options: WorkflowServerOptions = {}): WorkflowServer {
  const server = new WorkflowServer({ store: new SqliteStore(path), token: "", ...options });
  for (const [name, wf] of Object.entries(workflows)) server.addWorkflow(name, wf);
  servers.push(server);
  return server;
}

const run = async (server: WorkflowServer, name: string): Promise<string> =>
  (await callJson(server, "POST", `/workflows/${name}/run-nowait`, { start_event: {} })).body[
    "handler_id"
  ] as string;
const status = async (server: WorkflowServer, id: string) =>
  (await callJson(server, "GET", `/handlers/${id}`)).body["status"] ?? "deleted";
/**
 * Each look moves the clock on to its next timer, if any: the next retention pass is armed only once
 * the last one's real I/O is done, so time never runs ahead of the passes.
 */
const passes = (clock: FakeClock, check: () => Promise<boolean> | boolean) => async () => {
  if (await check()) return true;
  const due = clock.nextDue;
  if (due !== null) await clock.advance(Math.max(0, due - clock.now()));
  return false;
};
const autoVacuum = () => retentionReadiness(path)[0];
const fileBytes = () =>
  ["w.db", "w.db-wal"].reduce((sum, f) => {
    try {
      return sum + statSync(join(dir, f)).size;
    } catch {
      return sum;
    }
  }, 0);

it("deletes ended handlers past their status's age on the server's clock, gives the space back, and keeps running, blocked and younger ones", async () => {
  const clock = new FakeClock();
  // A run of a workflow the next start does not register: it will be blocked.
  const first = open({ gone: wait("gone") }, { clock });
  const blocked = await run(first, "gone");
  await until(async () => (await status(first, blocked)) === "running");
  await first.close();
  servers.splice(0);

  const server = open(
    { big, fail, waiter: wait("waiter") },
    { clock, retention: { completedMs: HOUR, failedMs: 2 * HOUR } },
  );
  const completed: string[] = [];
  for (let i = 0; i < 60; i++) completed.push(await run(server, "big"));
  // Before the first pass (at the start): the index of ended handlers, and incremental vacuum.
  await clock.advance(0);
  await until(() => autoVacuum() === 2, { what: "the file to be readied for retention" });
  expect(retentionReadiness(path)).toEqual([2, true]);
  const failed = [await run(server, "fail"), await run(server, "fail")];
  const waiting = await run(server, "waiter");
  const cancelled = await run(server, "waiter");
  await callJson(server, "POST", `/handlers/${cancelled}/cancel`);
  await until(async () =>
    (await Promise.all(completed.map((id) => status(server, id)))).every((s) => s === "completed"),
  );
  await until(async () => (await status(server, failed[1] as string)) === "failed");
  expect((await callJson(server, "GET", `/handlers/${blocked}`)).body["blocked"]).toMatchObject({
    code: "WORKFLOW_CHANGED",
  });
  const full = fileBytes();
  expect(full).toBeGreaterThan(5 * 1024 * 1024);

  // Younger than an hour: nothing is deleted.
  await clock.advance(HOUR - 60_000);
  expect(await status(server, completed[0] as string)).toBe("completed");

  // Past an hour: the completed ones go, with their events; failed ones (2 h) stay for now.
  await clock.advance(2 * 60_000);
  await until(
    passes(clock, async () => (await status(server, completed.at(-1) as string)) === "deleted"),
    { what: "the completed handlers to be deleted" },
  );
  expect(await Promise.all(completed.map((id) => status(server, id)))).toEqual(
    completed.map(() => "deleted"),
  );
  expect((await callJson(server, "GET", `/events/${completed[0]}?sse=false`)).status).toBe(404);
  expect(await status(server, failed[0] as string)).toBe("failed");

  await clock.advance(HOUR);
  await until(
    passes(clock, async () => (await status(server, failed[0] as string)) === "deleted"),
    { what: "the failed ones" },
  );
  // The space is given back to the file system (incremental vacuum and a checkpoint).
  await until(
    passes(clock, () => fileBytes() < full / 4),
    { what: `the file to shrink from ${full} bytes` },
  );

  // Never: a running handler, a blocked one, a cancelled one (no age given for cancelled).
  await clock.advance(30 * 24 * HOUR);
  expect(await status(server, waiting)).toBe("running");
  expect(await status(server, blocked)).toBe("running");
  expect(await status(server, cancelled)).toBe("cancelled");
  const left = (await callJson(server, "GET", "/handlers")).body["handlers"] as { handler_id: string }[];
  expect(left.map((h) => h.handler_id).sort()).toEqual([blocked, waiting, cancelled].sort());
});

it("refuses a retention age that is not a positive number, and a bad WORKFLOWS_RETENTION, when the server is created", () => {
  expect(() => new WorkflowServer({ retention: { completedMs: -1 } })).toThrow(
    /retention.completedMs must be a positive number of milliseconds/,
  );
  expect(() => new WorkflowServer({ retention: { doneMs: 5 } as never })).toThrow(/no option "doneMs"/);
  const before = process.env["WORKFLOWS_RETENTION"];
  try {
    process.env["WORKFLOWS_RETENTION"] = "a week";
    expect(() => new WorkflowServer()).toThrow(/Invalid WORKFLOWS_RETENTION "a week"/);
  } finally {
    if (before === undefined) delete process.env["WORKFLOWS_RETENTION"];
    else process.env["WORKFLOWS_RETENTION"] = before;
  }
});
