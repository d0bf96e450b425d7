// Issue 21, item 8: a process whose commits fail (its database gone, through a TCP proxy that resets
// and refuses its connections) starts no new step of its runs whose result it could not store; the
// steps go on once a commit succeeds again.
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

const db = useFreshDatabase("workflows_pgfence_failing");
const servers: ReturnType<typeof makeServer>[] = [];
const proxies: TcpProxy[] = [];

afterEach(async () => {
  for (const p of proxies.splice(0)) await p.down();
  await Promise.allSettled(servers.splice(0).map((s) => s.close()));
});

const Tick = defineEvent("FailingTick", z.object({ i: z.number().int() }));

it("starts no new step while its commits fail, and goes on once one succeeds", async () => {
  const target = new URL(ADMIN_URL);
  const link = new TcpProxy({ host: target.hostname, port: Number(target.port || 5432) });
  await link.up();
  proxies.push(link);
  const started: number[] = [];
  const failedCommits: number[] = [];
  const logger = {
    info: () => {},
    warn: () => {},
    error: (message: string) => void (message === "commit failed" && failedCommits.push(started.length)),
  };
  const ticker = new Workflow({ name: "ticker", timeout: null })
    .step("begin", { accepts: [StartEvent], emits: [Tick] }, async () => Tick.create({ i: 0 }))
    .step("tick", { accepts: [Tick], emits: [Tick, StopEvent] }, async (ctx, ev) => {
      started.push(ev.data.i);
      await sleep(10, undefined, { signal: ctx.signal }).catch(() => undefined);
      return ev.data.i < 100_000 ? Tick.create({ i: ev.data.i + 1 }) : StopEvent.create({ result: "done" });
    });
  const server = makeServer({
    store: new PostgresStore(
      { connectionString: link.url(db.url), connectionTimeoutMillis: 1000 },
      { schema: `failing_${randomBytes(4).toString("hex")}`, pollIntervalMs: 200 },
    ),
    logger,
    // Far beyond the test: the run is held by its failing commits, not stopped for a stale lease.
    leaseTtlMs: 600_000,
  });
  server.addWorkflow("ticker", ticker);
  servers.push(server);
  await callJson(server, "POST", "/workflows/ticker/run-nowait", {});
  await until(() => started.length >= 5, { what: "steps running" });

  await link.down();
  await until(() => failedCommits.length >= 1, { what: "a commit to fail" });
  const atFailure = started.length;
  // Three more failed attempts (one a second): no step started meanwhile.
  await until(() => failedCommits.length >= 4, { what: "the retries to fail", timeoutMs: 60_000 });
  expect(started.length).toBe(atFailure);

  await link.up();
  await until(() => started.length >= atFailure + 5, {
    what: "steps again once commits succeed",
    timeoutMs: 60_000,
  });
});
