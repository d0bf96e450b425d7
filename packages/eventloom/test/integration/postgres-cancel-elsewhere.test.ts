// Issue 21, item 8: a cancellation through a process that does not run the handler is answered
// `cancelling` (202) while the owner has not applied it (here: the owner is cut off from the
// database), never `cancelled` while the run still runs; it is applied once the owner, or whoever
// takes the handler over, reads its inbox.
import { randomBytes } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { defineEvent, StartEvent, StopEvent, Workflow } from "eventloom";
import { PostgresStore } from "eventloom/postgres";
import { afterEach, expect, it } from "vitest";
import { z } from "zod";
import { callJson, makeServer } from "../server/helpers.js";
import { ADMIN_URL, useFreshDatabase } from "../support/fresh-database.js";
import { TcpProxy } from "../support/tcp-proxy.js";
import { until } from "../support/until.js";

const db = useFreshDatabase("workflows_pgfence_cancel");
const servers: ReturnType<typeof makeServer>[] = [];
const proxies: TcpProxy[] = [];

afterEach(async () => {
  for (const p of proxies.splice(0)) await p.down();
  await Promise.allSettled(servers.splice(0).map((s) => s.close()));
});

it("answers 202 cancelling while the owner has not applied a cancellation, and applies it later", async () => {
  const schema = `cancel_${randomBytes(4).toString("hex")}`;
  const target = new URL(ADMIN_URL);
  const link = new TcpProxy({ host: target.hostname, port: Number(target.port || 5432) });
  await link.up();
  proxies.push(link);
  const store = (url: string) =>
    new PostgresStore(
      { connectionString: url, connectionTimeoutMillis: 1000 },
      { schema, pollIntervalMs: 200 },
    );
  const a = makeServer({ store: store(link.url(db.url)), idleReleaseMs: 60_000, leaseTtlMs: 10_000 });
  const b = makeServer({ store: store(db.url), idleReleaseMs: 60_000, leaseTtlMs: 10_000 });
  servers.push(a, b);
  await callJson(b, "GET", "/health");
  const { body } = await callJson<{ handler_id: string }>(a, "POST", "/workflows/waiting/run-nowait", {});
  const id = body.handler_id;
  expect(a.liveRunCount).toBe(1);

  link.partition();
  const answer = await callJson(b, "POST", `/handlers/${id}/cancel`);
  expect(answer).toMatchObject({ status: 202, body: { status: "cancelling" } });
  // Not cancelled yet in the store: the answer did not claim what is not so.
  expect((await callJson(b, "GET", `/handlers/${id}`)).body).toMatchObject({ status: "running" });

  // A stops on its own (its leases not renewed); B takes the handler over and applies the cancellation.
  await until(async () => (await callJson(b, "GET", `/handlers/${id}`)).body["status"] === "cancelled", {
    what: "the cancellation applied",
    timeoutMs: 60_000,
  });
  link.heal();
});

const Tick = defineEvent("CancelTick", z.object({ i: z.number().int() }));

/** Ticks of 20 ms for as long as it is not cancelled; each tick's process is recorded. */
function ticker(by: string, ticks: string[]) {
  return new Workflow({ name: "ticker", timeout: null })
    .step("begin", { accepts: [StartEvent], emits: [Tick] }, async () => Tick.create({ i: 0 }))
    .step("tick", { accepts: [Tick], emits: [Tick, StopEvent] }, async (ctx, ev) => {
      ticks.push(by);
      await sleep(20, undefined, { signal: ctx.signal }).catch(() => undefined);
      return ev.data.i < 100_000 ? Tick.create({ i: ev.data.i + 1 }) : StopEvent.create({ result: "done" });
    });
}

it("applies a cancellation left in the inbox before the process that takes the run over starts a step", async () => {
  const schema = `cancel_${randomBytes(4).toString("hex")}`;
  const target = new URL(ADMIN_URL);
  const link = new TcpProxy({ host: target.hostname, port: Number(target.port || 5432) });
  await link.up();
  proxies.push(link);
  const ticks: string[] = [];
  const server = (url: string, by: string) => {
    const s = makeServer({
      store: new PostgresStore(
        { connectionString: url, connectionTimeoutMillis: 1000 },
        { schema, pollIntervalMs: 200 },
      ),
      leaseTtlMs: 10_000,
    });
    s.addWorkflow("ticker", ticker(by, ticks));
    servers.push(s);
    return s;
  };
  const a = server(link.url(db.url), "A");
  const b = server(db.url, "B");
  await callJson(b, "GET", "/health");
  const { body } = await callJson<{ handler_id: string }>(a, "POST", "/workflows/ticker/run-nowait", {});
  const id = body.handler_id;
  await until(() => ticks.length >= 3, { what: "A ticking" });
  link.partition();
  expect((await callJson(b, "POST", `/handlers/${id}/cancel`)).status).toBe(202);
  await until(async () => (await callJson(b, "GET", `/handlers/${id}`)).body["status"] === "cancelled", {
    what: "the cancellation applied by the process that took the run over",
    timeoutMs: 60_000,
  });
  expect(ticks.filter((by) => by === "B")).toEqual([]);
  link.heal();
});
