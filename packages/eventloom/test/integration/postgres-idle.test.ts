// Idle handlers on a shared Postgres store hold no process: released from memory, no process's
// takeover loop brings them back by itself, and the next event resumes them wherever it arrives.
import { randomBytes } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { afterEach, expect, it } from "vitest";
import { PostgresStore } from "../../src/stores/postgres/index.js";
import { callJson, makeServer } from "../server/helpers.js";
import { useFreshDatabase } from "../support/fresh-database.js";
import { until } from "../support/until.js";

const TTL_MS = 600;

const db = useFreshDatabase("workflows_pgfence_idle");
const servers: ReturnType<typeof makeServer>[] = [];
const stores: PostgresStore[] = [];

afterEach(async () => {
  await Promise.allSettled(servers.splice(0).map((s) => s.close()));
  await Promise.allSettled(stores.splice(0).map((s) => s.close()));
});

it("leaves an idle handler in the store, on no process, until an event brings it back where it arrives", async () => {
  const schema = `idle_${randomBytes(4).toString("hex")}`;
  // A lets idle runs go at once; B keeps a run it took in for a while, so that it can be seen.
  const a = makeServer({
    store: new PostgresStore(db.url, { schema }),
    idleReleaseMs: 50,
    leaseTtlMs: TTL_MS,
  });
  const b = makeServer({
    store: new PostgresStore(db.url, { schema }),
    idleReleaseMs: 5000,
    leaseTtlMs: TTL_MS,
  });
  servers.push(a, b);
  const probe = new PostgresStore(db.url, { schema });
  stores.push(probe);
  await callJson(b, "GET", "/health");
  const { body } = await callJson<{ handler_id: string }>(a, "POST", "/workflows/waiting/run-nowait", {});
  const id = body.handler_id;
  // Out of memory first, then its lease given up (the release is a write of its own).
  await until(async () => a.liveRunCount === 0 && (await probe.getLease(id)) === null, {
    what: "A to release the idle run and its lease",
  });

  // Several takeover passes of both processes (every ttl/2) go by: the run stays in the store only.
  const observeUntil = Date.now() + TTL_MS * 3;
  while (Date.now() < observeUntil) {
    expect(a.liveRunCount + b.liveRunCount).toBe(0);
    await sleep(25);
  }
  expect(await probe.getLease(id)).toBeNull();
  expect((await callJson(b, "GET", `/results/${id}`)).status).toBe(202);

  const sent = await callJson(b, "POST", `/events/${id}`, { event: { type: "Ping", value: { n: 7 } } });
  expect(sent.body).toEqual({ status: "sent" });
  expect(b.liveRunCount).toBe(1);
  expect((await probe.getLease(id))?.owner).toBeTruthy();
  await callJson(a, "POST", `/events/${id}`, { event: { type: "Finish", value: {} } });
  await until(async () => (await callJson(a, "GET", `/results/${id}`)).status === 200, {
    what: "the run's end",
  });
  expect((await callJson(a, "GET", `/results/${id}`)).body).toMatchObject({ status: "completed", result: 7 });
});
