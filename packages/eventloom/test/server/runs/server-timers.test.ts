// Stream heartbeats and commit retries run on the server's injected clock, not on real time.
import { afterEach, expect, it } from "vitest";
import { MemoryStore, type WorkflowServer } from "../../../src/server/index.js";
import { awaitEnded } from "../../../src/server/runs/await-ended.js";
import { HandlerSignals } from "../../../src/server/runs/handler-signals.js";
import { FakeClock } from "../../core/fake-clock.js";
import { FaultyStore } from "../../support/faulty-store.js";
import { call, callJson, makeServer, until } from "../helpers.js";

const servers: WorkflowServer[] = [];
afterEach(async () => {
  await Promise.allSettled(servers.splice(0).map((s) => s.close()));
});

it("an idle SSE stream carries a ping once pingIntervalMs has passed on the server's clock", async () => {
  const clock = new FakeClock();
  const server = makeServer({ clock, pingIntervalMs: 15_000 });
  servers.push(server);
  const { body } = await callJson<{ handler_id: string }>(
    server,
    "POST",
    "/workflows/waiting/run-nowait",
    {},
  );
  await clock.advance(0);
  const timers = clock.pending;
  const res = await call(server, "GET", `/events/${body.handler_id}?sse=true`);
  const reader = (res.body as ReadableStream<Uint8Array>).getReader();
  const decoder = new TextDecoder();
  let text = "";
  let reading = true;
  void (async () => {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      text += decoder.decode(value, { stream: true });
    }
    reading = false;
  })();
  // The stream has read everything (the run published only internal events) and sleeps on its heartbeat.
  await until(() => clock.pending === timers + 1);
  await clock.advance(14_999);
  expect(text).not.toContain(": ping");
  await clock.advance(1);
  await until(() => text.includes(": ping"));
  await reader.cancel();
  await until(() => !reading);
});

it("a failed commit is tried again after the retry delay on the server's clock", async () => {
  const clock = new FakeClock();
  const store = new FaultyStore(new MemoryStore(), { at: { commit: [1] } });
  const server = makeServer({ clock, store });
  servers.push(server);
  const started = callJson(server, "POST", "/workflows/waiting/run-nowait", {});
  await until(() => store.faults.commit === 1);
  expect(store.calls.commit).toBe(1);
  await clock.advance(999);
  expect(store.calls.commit).toBe(1);
  await clock.advance(1);
  // The retry writes what the failed commit held: the new handler is in the store now.
  await until(async () => (await store.inner.listRunning()).length === 1);
  expect(store.calls.commit).toBe(2);
  expect((await started).status).toBeGreaterThanOrEqual(500);
});

it("a cancellation's wait for the owner to end the run gives up after its timeout on the clock", async () => {
  const clock = new FakeClock();
  const store = new MemoryStore();
  const at = new Date(clock.now()).toISOString();
  await store.commit({
    handlers: [
      {
        handlerId: "h",
        workflowName: "Waiting",
        runId: "r",
        status: "running",
        result: null,
        error: null,
        startedAt: at,
        updatedAt: at,
        completedAt: null,
      },
    ],
  });
  let over = false;
  void awaitEnded(store, new HandlerSignals(), "h", 5_000, clock).then(() => {
    over = true;
  });
  await clock.advance(4_999);
  expect(over).toBe(false);
  await clock.advance(1);
  await until(() => over);
});
