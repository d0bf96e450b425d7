// Issue 21, item 2: a purge answered by a process that does not run the handler races the owner's
// commits. It takes the handler's lease row first (the lock order of commits): nothing of the
// handler is left behind, a run that reuses the id starts from nothing, and no purge deadlocks.
import { randomBytes } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { defineEvent, StartEvent, StopEvent, Workflow } from "eventloom";
import { PostgresStore } from "eventloom/postgres";
import { WorkflowServer } from "eventloom/server";
import pg from "pg";
import { afterEach, expect, it } from "vitest";
import { z } from "zod";
import { useFreshDatabase } from "../support/fresh-database.js";
import { until } from "../support/until.js";

const db = useFreshDatabase("workflows_pgfence_purge");
const servers: WorkflowServer[] = [];

afterEach(async () => {
  await Promise.allSettled(servers.splice(0).map((s) => s.close()));
});

const Tick = defineEvent("PurgeTick", z.object({ i: z.number().int() }));

// A run that commits all the time: one step per tick, each a few milliseconds long.
const busy = new Workflow({ name: "busy", timeout: null })
  .step("begin", { accepts: [StartEvent], emits: [Tick] }, async () => Tick.create({ i: 0 }))
  .step("tick", { accepts: [Tick], emits: [Tick, StopEvent] }, async (ctx, ev) => {
    await sleep(2, undefined, { signal: ctx.signal }).catch(() => undefined);
    return ev.data.i < 100_000 ? Tick.create({ i: ev.data.i + 1 }) : StopEvent.create({ result: "done" });
  });

function server(schema: string): WorkflowServer {
  const s = new WorkflowServer({
    store: new PostgresStore({ connectionString: db.url }, { schema }),
    token: "",
    leaseTtlMs: 5000,
  });
  s.addWorkflow("busy", busy);
  servers.push(s);
  return s;
}

async function call(s: WorkflowServer, method: string, path: string, body?: unknown) {
  const init: RequestInit = { method };
  if (body !== undefined) {
    init.body = JSON.stringify(body);
    init.headers = { "content-type": "application/json" };
  }
  const res = await s.fetch(new Request(`http://localhost${path}`, init));
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : null) as Record<string, unknown> };
}

it("purges through a non-owner while the owner commits: nothing left behind, no deadlock, the id reusable", async () => {
  const schema = `purge_${randomBytes(4).toString("hex")}`;
  const a = server(schema);
  const b = server(schema);
  await call(b, "GET", "/health");
  const probe = new pg.Client({ connectionString: db.url });
  await probe.connect();
  const rows = async (id: string): Promise<number> => {
    const { rows } = await probe.query<{ n: number }>(
      `SELECT (SELECT count(*) FROM ${schema}.handlers WHERE handler_id = $1)
            + (SELECT count(*) FROM ${schema}.events WHERE handler_id = $1)
            + (SELECT count(*) FROM ${schema}.states WHERE handler_id = $1)
            + (SELECT count(*) FROM ${schema}.inbox WHERE handler_id = $1) AS n`,
      [id],
    );
    return Number(rows[0]?.n);
  };
  try {
    for (let round = 0; round < 20; round++) {
      const id = `purged-${round}`;
      const started = await call(a, "POST", "/workflows/busy/run-nowait", { handler_id: id });
      expect(started.status, JSON.stringify({ round, body: started.body })).toBe(200);
      await until(async () => (await rows(id)) > 3, { what: "the owner committing" });
      const purged = await call(b, "POST", `/handlers/${id}/cancel?purge=true`);
      expect(purged).toEqual({ status: 200, body: { status: "deleted" } });
      // The owner's next commit is refused: it stops the run. Nothing of the handler is left.
      await until(() => a.liveRunCount === 0, { what: "the owner to stop the purged run" });
      expect(await rows(id)).toBe(0);
      // The id starts afresh: its stream begins at sequence 0, with none of the old run's events.
      const again = await call(b, "POST", "/workflows/busy/run-nowait", { handler_id: id });
      expect(again.status).toBe(200);
      const { rows: first } = await probe.query<{ sequence: string }>(
        `SELECT min(sequence)::text AS sequence FROM ${schema}.events WHERE handler_id = $1`,
        [id],
      );
      expect(first[0]?.sequence ?? "0").toBe("0");
      const gone = await call(b, "POST", `/handlers/${id}/cancel?purge=true`);
      expect(gone.status).toBe(200);
      await until(() => b.liveRunCount === 0, { what: "B to stop its run" });
      expect(await rows(id)).toBe(0);
    }
  } finally {
    await probe.end();
  }
}, 300_000);
