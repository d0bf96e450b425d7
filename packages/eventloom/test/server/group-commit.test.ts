import type { RunState } from "eventloom";
import { type CommitBatch, MemoryStore } from "eventloom/server";
import { afterEach, expect, test } from "vitest";
import { callJson, makeServer, until } from "./helpers.js";

/** A real MemoryStore that records its commits and can hold one in flight. */
class RecordingStore extends MemoryStore {
  commits: CommitBatch[] = [];
  inFlight = 0;
  maxInFlight = 0;
  hold: Promise<void> | null = null;

  override async commit(batch: CommitBatch): Promise<void> {
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    try {
      if (this.hold) await this.hold;
      await super.commit(batch);
      this.commits.push(batch);
    } finally {
      this.inFlight--;
    }
  }
}

let server: ReturnType<typeof makeServer>;
afterEach(async () => server?.close());

test("the changes of many runs are written in few commits, one at a time", async () => {
  const store = new RecordingStore();
  server = makeServer({ store });
  await callJson(server, "GET", "/health");
  const runs = 200;
  const answers = await Promise.all(
    Array.from({ length: runs }, (_, i) =>
      callJson(server, "POST", "/workflows/add/run", { start_event: { a: i, b: 0 } }),
    ),
  );
  expect(answers.every((a) => a.status === 200)).toBe(true);
  expect(store.maxInFlight).toBe(1);
  // each run changes its state several times (start, step running, step done, stop): without group
  // commit that is well over 4 commits per run
  expect(store.commits.length).toBeLessThan(runs);
  const handlersPerCommit = Math.max(...store.commits.map((c) => c.handlers?.length ?? 0));
  expect(handlersPerCommit).toBeGreaterThan(10);
});

test("a commit's events and state agree: the state's next sequence follows its last event", async () => {
  const store = new RecordingStore();
  server = makeServer({ store });
  await callJson(server, "POST", "/workflows/greet/run", {});
  for (const batch of store.commits) {
    for (const group of batch.events ?? []) {
      const json = batch.states?.find((s) => s.handlerId === group.handlerId)?.json;
      const state = json === undefined ? undefined : (JSON.parse(json) as RunState);
      expect(state?.nextSequence).toBe((group.events.at(-1)?.sequence ?? -2) + 1);
    }
  }
});

test("while a commit is in flight the next batch waits and then goes in one commit", async () => {
  const store = new RecordingStore();
  server = makeServer({ store });
  await callJson(server, "GET", "/health");
  let release: () => void = () => {};
  store.hold = new Promise((r) => {
    release = r;
  });
  const first = callJson(server, "POST", "/workflows/waiting/run-nowait", {});
  // wait until the first commit is held in flight
  while (store.inFlight === 0) await new Promise((r) => setImmediate(r));
  const more = Array.from({ length: 20 }, () =>
    callJson(server, "POST", "/workflows/waiting/run-nowait", {}),
  );
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
  expect(store.inFlight).toBe(1);
  store.hold = null;
  release();
  const answers = await Promise.all([first, ...more]);
  expect(answers.every((a) => a.status === 200)).toBe(true);
  expect(store.maxInFlight).toBe(1);
  expect(store.commits.length).toBeLessThanOrEqual(4);
});

test("a failed commit fails the request with 503 and is retried, losing nothing", async () => {
  let failures = 1;
  class FlakyStore extends MemoryStore {
    override async commit(batch: CommitBatch): Promise<void> {
      if (failures > 0) {
        failures--;
        const { WorkflowError } = await import("eventloom");
        throw new WorkflowError("STORE_UNAVAILABLE", "database is down");
      }
      return super.commit(batch);
    }
  }
  server = makeServer({ store: new FlakyStore() });
  await callJson(server, "GET", "/health");
  const res = await callJson<{ handler_id?: string }>(server, "POST", "/workflows/waiting/run-nowait", {
    handler_id: "flaky",
  });
  expect(res.status).toBe(503);
  // retried in the background: the handler appears
  await until(async () => (await callJson(server, "GET", "/handlers/flaky")).status === 200, {
    what: "the handler to be recorded",
  });
});

test("an event value JSON cannot hold (bigint) neither crashes the server nor stalls other runs", async () => {
  const { defineEvent, StartEvent, StopEvent, Workflow } = await import("eventloom");
  const { z } = await import("zod");
  const Big = defineEvent("Big", z.object({ n: z.bigint() }));
  const wf = new Workflow({ name: "BigWf" }).step(
    "s",
    { accepts: [StartEvent], emits: [StopEvent] },
    (ctx) => {
      ctx.writeEventToStream(Big.create({ n: 10n }));
      return StopEvent.create({ result: 2n });
    },
  );
  server = makeServer();
  server.addWorkflow("big", wf);
  const big = await callJson(server, "POST", "/workflows/big/run", {});
  expect(big.body).toMatchObject({ status: "completed", result: "2" });
  const other = await callJson(server, "POST", "/workflows/add/run", { start_event: { a: 1, b: 1 } });
  expect(other.body).toMatchObject({ status: "completed", result: 2 });
});
