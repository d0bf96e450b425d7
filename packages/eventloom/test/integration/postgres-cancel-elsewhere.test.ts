// Issue 21, item 8: a cancellation through a process that does not run the handler is answered
// `cancelling` (202) while the owner has not applied it (here: the owner is cut off from the
// database), never `cancelled` while the run still runs; it is applied once the owner, or whoever
// takes the handler over, reads its inbox.
import { randomBytes } from "node:crypto";
import { PostgresStore } from "eventloom/postgres";
import { afterEach, expect, it } from "vitest";
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
