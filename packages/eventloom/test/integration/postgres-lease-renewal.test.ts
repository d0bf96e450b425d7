// A live process keeps what it runs: its heartbeat renews the leases of long runs, so the other
// processes' takeover passes never take a handler from a process that is alive and connected.
import { randomBytes } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { afterEach, expect, it } from "vitest";
import { z } from "zod";
import { defineEvent, StartEvent, StopEvent, Workflow } from "../../src/core/index.js";
import { WorkflowServer } from "../../src/server/index.js";
import { PostgresStore } from "../../src/stores/postgres/index.js";
import { useFreshDatabase } from "../support/fresh-database.js";
import { eventually } from "../support/until.js";

const TTL_MS = 1000;

const db = useFreshDatabase("workflows_renew");
const servers: WorkflowServer[] = [];

afterEach(async () => {
  await Promise.allSettled(servers.splice(0).map((s) => s.close()));
});

const Tick = defineEvent("RenewTick", z.object({ i: z.number().int() }));

/** 60 ticks of 50 ms (3 lease lifetimes); each tick notes which server ran it. */
function ticker(by: string, ran: string[]) {
  return new Workflow({ name: "ticker", timeout: null })
    .step("begin", { accepts: [StartEvent], emits: [Tick] }, async () => Tick.create({ i: 0 }))
    .step("tick", { accepts: [Tick], emits: [Tick, StopEvent] }, async (ctx, ev) => {
      ran.push(by);
      await sleep(50, undefined, { signal: ctx.signal }).catch(() => undefined);
      return ev.data.i + 1 < 60 ? Tick.create({ i: ev.data.i + 1 }) : StopEvent.create({ result: "done" });
    });
}

async function call(s: WorkflowServer, method: string, path: string, body?: unknown) {
  const init: RequestInit = { method };
  if (body !== undefined) {
    init.body = JSON.stringify(body);
    init.headers = { "content-type": "application/json" };
  }
  const res = await s.fetch(new Request(`http://localhost${path}`, init));
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

it("keeps a run longer than several lease lifetimes on its process while others run takeover passes", async () => {
  const schema = `renew_${randomBytes(4).toString("hex")}`;
  const ran: string[] = [];
  const make = (by: string) => {
    const s = new WorkflowServer({
      store: new PostgresStore(db.url, { schema }),
      token: "",
      leaseTtlMs: TTL_MS,
    });
    s.addWorkflow("ticker", ticker(by, ran));
    servers.push(s);
    return s;
  };
  const a = make("A");
  const b = make("B");
  const c = make("C");
  await Promise.all([b, c].map((s) => call(s, "GET", "/handlers")));
  const { body } = await call(a, "POST", "/workflows/ticker/run-nowait", {});
  const id = body["handler_id"] as string;
  const result = await eventually(
    "the run's end",
    async () => {
      const r = await call(b, "GET", `/results/${id}`);
      return r.status === 200 ? r.body : undefined;
    },
    30_000,
  );
  expect(result).toMatchObject({ status: "completed", result: "done" });
  expect(ran).toHaveLength(60);
  expect(new Set(ran)).toEqual(new Set(["A"]));
});
