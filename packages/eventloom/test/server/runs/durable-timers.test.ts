// Durable timers in the server (round 2 §7), on the injected clock: a run waiting only on timers is
// released like one waiting for a person, and released runs hold no timer each: one waker reads
// the next due wake times from the store.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, expect, it } from "vitest";
import { z } from "zod";
import { defineEvent, StartEvent, StopEvent, Workflow } from "../../../src/core/index.js";
import { SqliteStore, type WorkflowServer } from "../../../src/server/index.js";
import { FakeClock } from "../../core/fake-clock.js";
import { callJson, makeServer, until } from "../helpers.js";

const servers: WorkflowServer[] = [];
const dirs: string[] = [];
afterEach(async () => {
  await Promise.allSettled(servers.splice(0).map((s) => s.close()));
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const Nap = defineEvent("Nap", z.object({ seconds: z.number() }), { extends: StartEvent });
const Wake = defineEvent("NapOver", z.object({ due: z.number() }));

/** Sleeps `seconds`, then ends with when its Wake was due and when it came (on `clock`). */
function sleeper(clock: FakeClock) {
  return new Workflow({ name: "Sleeper", timeout: null })
    .step("nap", { accepts: [Nap], emits: [Wake] }, async (ctx, ev) => {
      ctx.sendEvent(Wake.create({ due: clock.now() + ev.data.seconds * 1000 }), { delay: ev.data.seconds });
    })
    .step("wake", { accepts: [Wake], emits: [StopEvent] }, async (_ctx, ev) =>
      StopEvent.create({ result: { due: ev.data.due, came: clock.now() } }),
    );
}

function serverOn(clock: FakeClock, options: Parameters<typeof makeServer>[0] = {}): WorkflowServer {
  const server = makeServer({ clock, idleReleaseMs: 1_000, ...options });
  server.addWorkflow("sleeper", sleeper(clock));
  servers.push(server);
  return server;
}

async function startNaps(server: WorkflowServer, seconds: number[]): Promise<string[]> {
  const ids: string[] = [];
  for (const s of seconds) {
    const { body } = await callJson<{ handler_id: string }>(server, "POST", "/workflows/sleeper/run-nowait", {
      start_event: { seconds: s },
    });
    ids.push(body.handler_id);
  }
  return ids;
}

async function results(server: WorkflowServer, ids: string[]) {
  return Promise.all(ids.map(async (id) => (await callJson(server, "GET", `/results/${id}`)).body));
}

it("releases 200 sleeping runs, holds no timer per run, and wakes each exactly at its time", async () => {
  const clock = new FakeClock(Date.parse("2030-01-01T00:00:00.000Z"));
  const server = serverOn(clock);
  const seconds = Array.from({ length: 200 }, (_, i) => 60 + ((i * 37) % 200));
  const ids = await startNaps(server, seconds);
  await clock.advance(1_000);
  await until(() => server.liveRunCount === 0);
  // Released: what is left on the clock does not grow with the number of sleeping runs.
  expect(clock.pending).toBeLessThan(10);
  for (let t = 0; t < 260; t++) await clock.advance(1_000);
  const ended = await results(server, ids);
  for (const r of ended) {
    expect(r).toMatchObject({ status: "completed" });
    const { due, came } = (r as { result: { due: number; came: number } }).result;
    expect(came).toBe(due);
  }
});

it("a timer set while the run is in memory fires from the engine, before any release", async () => {
  const clock = new FakeClock(0);
  const server = serverOn(clock, { idleReleaseMs: 3_600_000 });
  const [id] = await startNaps(server, [5]);
  await clock.advance(4_999);
  expect((await callJson(server, "GET", `/results/${id}`)).status).toBe(202);
  await clock.advance(1);
  await until(async () => (await callJson(server, "GET", `/results/${id}`)).status === 200);
  expect((await callJson(server, "GET", `/results/${id}`)).body).toMatchObject({
    result: { due: 5_000, came: 5_000 },
  });
});

it("a server started on the file of one that stopped wakes its released sleepers at their times", async () => {
  const dir = mkdtempSync(join(tmpdir(), "eventloom-time-"));
  dirs.push(dir);
  const file = join(dir, "w.db");
  const t0 = Date.parse("2030-01-01T00:00:00.000Z");
  const clock = new FakeClock(t0);
  const first = serverOn(clock, { store: new SqliteStore(file) });
  const ids = await startNaps(first, [30, 90, 3_600]);
  await clock.advance(1_000);
  await until(() => first.liveRunCount === 0);
  await first.close();
  await clock.advance(40_000); // the 30 s timer came due while no server ran

  const second = serverOn(clock, { store: new SqliteStore(file) });
  await second.start();
  // Its wake time has passed: it is woken at once (a due timer fires on the clock's next turn).
  await until(async () => {
    await clock.advance(0);
    return (await callJson(second, "GET", `/results/${ids[0]}`)).status === 200;
  });
  expect((await callJson(second, "GET", `/results/${ids[1]}`)).status).toBe(202);
  // Each wake loads the run from the file (real I/O): the clock moves on once the run is done.
  for (const [i, id] of ids.entries()) {
    if (i === 0) continue;
    await clock.advance(t0 + [30, 90, 3_600][i]! * 1000 - clock.now());
    await until(async () => {
      await clock.advance(0);
      return (await callJson(second, "GET", `/results/${id}`)).status === 200;
    });
  }
  const [late, onTime, hour] = (await results(second, ids)) as { result: { due: number; came: number } }[];
  // Due at +30 s; no server ran until +41 s, which woke it at once.
  expect(late && late.result.came - late.result.due).toBe(11_000);
  expect(onTime?.result.came).toBe(onTime?.result.due);
  expect(hour?.result.came).toBe(hour?.result.due);
});

it("loads many runs due at once ahead of their time, keeps them, and wakes each once exactly at its time", async () => {
  const clock = new FakeClock(Date.parse("2030-01-01T00:00:00.000Z"));
  let ran = 0;
  const counted = new Workflow({ name: "Counted", timeout: null })
    .step("nap", { accepts: [Nap], emits: [Wake] }, async (ctx, ev) => {
      ctx.sendEvent(Wake.create({ due: clock.now() + ev.data.seconds * 1000 }), { delay: ev.data.seconds });
    })
    .step("wake", { accepts: [Wake], emits: [StopEvent] }, async (_ctx, ev) => {
      ran++;
      return StopEvent.create({ result: { due: ev.data.due, came: clock.now() } });
    });
  const server = makeServer({ clock, idleReleaseMs: 1_000 });
  server.addWorkflow("sleeper", counted);
  servers.push(server);
  // 300 runs all due at the same instant: more than the waker wakes at once (64).
  const ids = await startNaps(
    server,
    Array.from({ length: 300 }, () => 60),
  );
  const due = clock.now() + 60_000;
  await clock.advance(1_000);
  await until(() => server.liveRunCount === 0);
  // Within the waker's lead (2 s) they are all loaded before their time, and none has run its step.
  await clock.advance(due - 1_500 - clock.now());
  await until(async () => {
    await clock.advance(0);
    return server.liveRunCount === ids.length;
  });
  expect(ran).toBe(0);
  // An idle period passes: a run due this soon is kept in memory, not released to be loaded again.
  await clock.advance(1_499);
  expect(server.liveRunCount).toBe(ids.length);
  expect(ran).toBe(0);
  await clock.advance(1);
  await until(() => ran === ids.length);
  for (const r of await results(server, ids)) {
    const { due: at, came } = (r as { result: { due: number; came: number } }).result;
    expect(came).toBe(at);
  }
  // Each woke once: nothing more runs later.
  await clock.advance(120_000);
  expect(ran).toBe(ids.length);
});
