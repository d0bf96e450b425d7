import { join } from "node:path";
import { defineEvent, StartEvent, StopEvent, Workflow } from "eventloom";
import { SqliteStore, type WorkflowServer } from "eventloom/server";
import { afterEach, describe, expect, test } from "vitest";
import { z } from "zod";
import { call, callJson, envelopes, makeServer, readNdjson, readSse, tempDir, until } from "../helpers.js";

const Nudge = defineEvent("Nudge", z.object({}));

const servers: WorkflowServer[] = [];
const cleanups: (() => void)[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close();
  for (const c of cleanups.splice(0)) c();
});

function dbFile(): string {
  const { dir, remove } = tempDir();
  cleanups.push(remove);
  return join(dir, "workflows.db");
}

function onFile(path: string, options: ConstructorParameters<typeof WorkflowServer>[0] = {}): WorkflowServer {
  const server = makeServer({ store: new SqliteStore(path), ...options });
  servers.push(server);
  return server;
}

describe("restart durability on a SQLite file", () => {
  test("a new server on the same file resumes a waiting run and finishes it when the event arrives", async () => {
    const path = dbFile();
    const first = onFile(path);
    const { body } = await callJson<{ handler_id: string }>(first, "POST", "/workflows/human/run-nowait", {});
    const id = body.handler_id;
    const before = envelopes(
      await readSse(await call(first, "GET", `/events/${id}`), (fs) =>
        envelopes(fs).some((e) => e.type === "RequestEvent"),
      ),
    );
    await first.close();

    const second = onFile(path);
    expect((await callJson(second, "GET", `/results/${id}`)).status).toBe(202);
    const sent = await callJson(second, "POST", `/events/${id}`, {
      event: { type: "ResponseEvent", value: { response: "Ada" } },
    });
    expect(sent.status).toBe(200);
    const all = await readNdjson(await call(second, "GET", `/events/${id}?sse=false&include_internal=true`));
    expect(all.map((e) => e.sequence)).toEqual(all.map((_, i) => i));
    expect(
      all.filter((e) => !e.type.startsWith("Step") && e.type !== "WorkflowIdleEvent").map((e) => e.type),
    ).toEqual(["RequestEvent", "EventReceived", "OutEvent"]);
    expect(before[0]?.sequence).toBe(all.find((e) => e.type === "RequestEvent")?.sequence);
    expect((await callJson(second, "GET", `/results/${id}`)).body).toMatchObject({
      status: "completed",
      result: { output: "Hello, Ada" },
    });
  });

  test("a step in flight at shutdown runs again in the next server (at-least-once)", async () => {
    const path = dbFile();
    let release: () => void = () => {};
    const gate = new Promise<void>((r) => {
      release = r;
    });
    // The first server's step blocks: the event is recorded in the state's queue, not yet processed.
    const slow = (blocking: boolean) =>
      new Workflow({ name: "Slow", timeout: null }).step(
        "work",
        { accepts: [StartEvent], emits: [StopEvent] },
        async (_ctx, ev) => {
          if (blocking) await gate;
          return StopEvent.create({ result: ev.data["n"] ?? null });
        },
      );
    const first = onFile(path);
    first.addWorkflow("slow", slow(true));
    const { body } = await callJson<{ handler_id: string }>(first, "POST", "/workflows/slow/run-nowait", {
      start_event: { n: 7 },
    });
    await first.close();
    release();

    // The step that was in flight runs again in the new server (at-least-once).
    const second = onFile(path);
    second.addWorkflow("slow", slow(false));
    const events = await readNdjson(await call(second, "GET", `/events/${body.handler_id}?sse=false`));
    expect(events.at(-1)).toMatchObject({ type: "StopEvent", value: { result: 7 } });
    expect((await callJson(second, "GET", `/results/${body.handler_id}`)).body).toMatchObject({
      status: "completed",
    });
  });

  test("an event acknowledged with sent survives a shutdown right after", async () => {
    const path = dbFile();
    const first = onFile(path);
    const { body } = await callJson<{ handler_id: string }>(
      first,
      "POST",
      "/workflows/waiting/run-nowait",
      {},
    );
    const sent = await callJson(first, "POST", `/events/${body.handler_id}`, {
      event: { type: "Ping", value: { n: 9 } },
    });
    expect(sent.status).toBe(200);
    await first.close();
    const second = onFile(path);
    const frames = await readSse(await call(second, "GET", `/events/${body.handler_id}`), (fs) =>
      envelopes(fs).some((e) => e.type === "Pong"),
    );
    expect(envelopes(frames).find((e) => e.type === "Pong")?.value).toEqual({ n: 9 });
    await callJson(second, "POST", `/events/${body.handler_id}`, { event: { type: "Finish", value: {} } });
    expect((await callJson(second, "GET", `/results/${body.handler_id}`)).status).not.toBe(404);
  });

  test("an idle run stays in the store after a restart until an event brings it back", async () => {
    const path = dbFile();
    const first = onFile(path);
    const { body } = await callJson<{ handler_id: string }>(
      first,
      "POST",
      "/workflows/waiting/run-nowait",
      {},
    );
    await readSse(await call(first, "GET", `/events/${body.handler_id}?include_internal=true`), (fs) =>
      envelopes(fs).some((e) => e.type === "WorkflowIdleEvent"),
    );
    await first.close();
    const second = onFile(path);
    expect((await callJson(second, "GET", "/health")).status).toBe(200);
    expect(second.liveRunCount).toBe(0);
    await callJson(second, "POST", `/events/${body.handler_id}`, {
      event: { type: "Ping", value: { n: 1 } },
    });
    expect(second.liveRunCount).toBe(1);
  });

  test("continuation after a restart carries the state and goes on with the sequence", async () => {
    const path = dbFile();
    const first = onFile(path);
    await callJson(first, "POST", "/workflows/counter/run", { handler_id: "cnt" });
    await first.close();
    const second = onFile(path);
    const res = await callJson(second, "POST", "/workflows/counter/run", { handler_id: "cnt" });
    expect(res.body).toMatchObject({ result: 2 });
    const all = await readNdjson(await call(second, "GET", "/events/cnt?sse=false&include_internal=true"));
    expect(all.map((e) => e.sequence)).toEqual(all.map((_, i) => i));
  });
});

describe("memory", () => {
  test("an idle run is released from memory and brought back by the next event", async () => {
    const server = makeServer({ idleReleaseMs: 20 });
    servers.push(server);
    const { body } = await callJson<{ handler_id: string }>(
      server,
      "POST",
      "/workflows/waiting/run-nowait",
      {},
    );
    expect(server.liveRunCount).toBe(1);
    await until(() => server.liveRunCount === 0);
    expect((await callJson(server, "GET", `/results/${body.handler_id}`)).status).toBe(202);
    await callJson(server, "POST", `/events/${body.handler_id}`, {
      event: { type: "Ping", value: { n: 4 } },
    });
    expect(server.liveRunCount).toBe(1);
    await callJson(server, "POST", `/events/${body.handler_id}`, { event: { type: "Finish", value: {} } });
    const events = await readNdjson(await call(server, "GET", `/events/${body.handler_id}?sse=false`));
    expect(events.at(-1)).toMatchObject({ type: "StopEvent", value: { result: 4 } });
  });

  test("a sync run answers even when its run was released while waiting and brought back", async () => {
    const server = makeServer({ idleReleaseMs: 10 });
    servers.push(server);
    const pending = callJson(server, "POST", "/workflows/human/run", { handler_id: "sync-released" });
    await until(async () => (await callJson(server, "GET", "/handlers/sync-released")).status === 200);
    await until(() => server.liveRunCount === 0);
    await callJson(server, "POST", "/events/sync-released", {
      event: { type: "ResponseEvent", value: { response: "Z" } },
    });
    expect((await pending).body).toMatchObject({ status: "completed", result: { output: "Hello, Z" } });
  });

  test("a released run is woken by its own timer (run timeout)", async () => {
    const server = makeServer({ idleReleaseMs: 10 });
    servers.push(server);
    const timed = new Workflow({ name: "Timed", timeout: 0.15 }).step(
      "wait",
      { accepts: [StartEvent], emits: [StopEvent] },
      async (ctx) => {
        await ctx.waitForEvent(Nudge);
        return StopEvent.create({});
      },
    );
    server.addWorkflow("timed", timed, { additionalEvents: [Nudge] });
    const { body } = await callJson<{ handler_id: string }>(
      server,
      "POST",
      "/workflows/timed/run-nowait",
      {},
    );
    await until(() => server.liveRunCount === 0);
    const events = await readNdjson(await call(server, "GET", `/events/${body.handler_id}?sse=false`));
    expect(events.at(-1)?.type).toBe("WorkflowTimedOutEvent");
    expect((await callJson(server, "GET", `/results/${body.handler_id}`)).body).toMatchObject({
      status: "failed",
    });
  });

  test("ended runs leave nothing in memory", async () => {
    const server = makeServer();
    servers.push(server);
    await Promise.all(
      Array.from({ length: 500 }, (_, i) =>
        callJson(server, "POST", "/workflows/add/run", { start_event: { a: i, b: 1 } }),
      ),
    );
    expect(server.liveRunCount).toBe(0);
  });
});
