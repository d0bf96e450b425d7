// Issue 21, item 3: a synchronous `run` answers when its run ends on another process. A releases
// the waiting run from memory (idle), the event that ends it arrives through B, B takes the run in
// and ends it: A's waiter, left without a run in memory, answers from the store.
import { randomBytes } from "node:crypto";
import { afterEach, expect, it } from "vitest";
import { PostgresStore } from "../../src/stores/postgres/index.js";
import { callJson, makeServer } from "../server/helpers.js";
import { useFreshDatabase } from "../support/fresh-database.js";
import { until } from "../support/until.js";

const db = useFreshDatabase("workflows_pgfence_sync");
const servers: ReturnType<typeof makeServer>[] = [];

afterEach(async () => {
  await Promise.allSettled(servers.splice(0).map((s) => s.close()));
});

it("answers a synchronous run whose run was released and ended on another process", async () => {
  const schema = `sync_${randomBytes(4).toString("hex")}`;
  const a = makeServer({ store: new PostgresStore(db.url, { schema }), idleReleaseMs: 50, leaseTtlMs: 2000 });
  const b = makeServer({
    store: new PostgresStore(db.url, { schema }),
    idleReleaseMs: 60_000,
    leaseTtlMs: 2000,
  });
  servers.push(a, b);
  await callJson(b, "GET", "/health");
  const handlerId = `sync-${randomBytes(3).toString("hex")}`;
  const answer = callJson(a, "POST", "/workflows/waiting/run", { handler_id: handlerId });
  // Started on A, then released from A's memory while it waits for events.
  await until(async () => (await callJson(b, "GET", `/handlers/${handlerId}`)).status === 200, {
    what: "the run's start",
  });
  await until(() => a.liveRunCount === 0, { what: "A to release the waiting run" });
  expect(
    (await callJson(b, "POST", `/events/${handlerId}`, { event: { type: "Ping", value: { n: 4 } } })).status,
  ).toBe(200);
  expect(b.liveRunCount).toBe(1);
  await callJson(b, "POST", `/events/${handlerId}`, { event: { type: "Finish", value: {} } });
  const { status, body } = await answer;
  expect(status).toBe(200);
  expect(body).toMatchObject({ handler_id: handlerId, status: "completed", result: 4 });
  // The answer is what the store holds.
  expect((await callJson(b, "GET", `/results/${handlerId}`)).body).toMatchObject({
    status: "completed",
    result: 4,
  });
});
