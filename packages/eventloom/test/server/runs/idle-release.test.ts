// Idle release and wake-up run on the server's injected clock: minutes of idleness pass in no time.
import { afterEach, expect, it } from "vitest";
import { z } from "zod";
import { defineEvent, StartEvent, StopEvent, Workflow } from "../../../src/core/index.js";
import type { WorkflowServer } from "../../../src/server/index.js";
import { FakeClock } from "../../core/fake-clock.js";
import { callJson, makeServer, until } from "../helpers.js";

const servers: WorkflowServer[] = [];
afterEach(async () => {
  await Promise.allSettled(servers.splice(0).map((s) => s.close()));
});

function serverOn(clock: FakeClock, idleReleaseMs: number): WorkflowServer {
  const server = makeServer({ clock, idleReleaseMs });
  servers.push(server);
  return server;
}

it("releases an idle run exactly when idleReleaseMs has passed on the server's clock", async () => {
  const clock = new FakeClock();
  const server = serverOn(clock, 60_000);
  const { body } = await callJson<{ handler_id: string }>(
    server,
    "POST",
    "/workflows/waiting/run-nowait",
    {},
  );
  await clock.advance(0);
  expect(server.liveRunCount).toBe(1);
  await clock.advance(59_999);
  expect(server.liveRunCount).toBe(1);
  await clock.advance(1);
  expect(server.liveRunCount).toBe(0);

  // The next event loads it back and it goes on from its stored state.
  const id = body.handler_id;
  expect(
    (await callJson(server, "POST", `/events/${id}`, { event: { type: "Ping", value: { n: 4 } } })).status,
  ).toBe(200);
  expect(server.liveRunCount).toBe(1);
  await callJson(server, "POST", `/events/${id}`, { event: { type: "Finish", value: {} } });
  await clock.advance(0);
  expect((await callJson(server, "GET", `/results/${id}`)).body).toMatchObject({
    status: "completed",
    result: 4,
  });
});

it("a run that changes while idle-timed starts its idle period again", async () => {
  const clock = new FakeClock();
  const server = serverOn(clock, 10_000);
  const { body } = await callJson<{ handler_id: string }>(
    server,
    "POST",
    "/workflows/waiting/run-nowait",
    {},
  );
  await clock.advance(9_000);
  await callJson(server, "POST", `/events/${body.handler_id}`, { event: { type: "Ping", value: { n: 1 } } });
  await clock.advance(9_000);
  expect(server.liveRunCount).toBe(1);
  await clock.advance(1_000);
  expect(server.liveRunCount).toBe(0);
});

const Answer = defineEvent("IdleAnswer", z.object({ text: z.string() }));
const patient = new Workflow({ name: "Patient", timeout: null }).step(
  "ask",
  { accepts: [StartEvent], emits: [StopEvent], waitsFor: [Answer] },
  async (ctx) => {
    try {
      const answer = await ctx.waitForEvent(Answer, { timeout: 3600 });
      return StopEvent.create({ result: answer.data.text });
    } catch {
      return StopEvent.create({ result: "no answer" });
    }
  },
);

it("wakes a released run at its waiter's deadline, an hour later on the clock", async () => {
  const clock = new FakeClock();
  const server = serverOn(clock, 1_000);
  server.addWorkflow("patient", patient);
  const { body } = await callJson<{ handler_id: string }>(
    server,
    "POST",
    "/workflows/patient/run-nowait",
    {},
  );
  await clock.advance(1_000);
  expect(server.liveRunCount).toBe(0);
  expect((await callJson(server, "GET", `/results/${body.handler_id}`)).status).toBe(202);
  // Released until shortly before its deadline: the waker loads it 2 s early (its lead), and its own
  // timer fires on time.
  await clock.advance(3_600_000 - 1_000 - 2_001);
  expect(server.liveRunCount).toBe(0);
  await clock.advance(1);
  await until(() => server.liveRunCount === 1);
  expect((await callJson(server, "GET", `/results/${body.handler_id}`)).status).toBe(202);
  await clock.advance(2_000);
  await clock.advance(0);
  expect((await callJson(server, "GET", `/results/${body.handler_id}`)).body).toMatchObject({
    status: "completed",
    result: "no answer",
  });
});
