// Issue 21, item 9: an answer sent through a process that does not run the handler costs that process
// 2 round trips (the route's read of the record; the inbox write that says, in the same statement,
// that another process holds the handler), and the owner 2 (its inbox read; the commit that takes
// the answer in, ends the run and gives its lease back). Statements are counted per process
// (test/support/count-statements.ts).
import { randomBytes } from "node:crypto";
import pg from "pg";
import { afterEach, expect, it } from "vitest";
import { PostgresStore } from "../../src/stores/postgres/index.js";
import { callJson, makeServer } from "../server/helpers.js";
import { useStatementCounts } from "../support/count-statements.js";
import { useFreshDatabase } from "../support/fresh-database.js";
import { until } from "../support/until.js";

const db = useFreshDatabase("workflows_pgfence_answer");
const servers: ReturnType<typeof makeServer>[] = [];
const { count } = useStatementCounts();
afterEach(async () => {
  await Promise.allSettled(servers.splice(0).map((s) => s.close()));
});

const trips = () => ({ owner: count("owner"), other: count("other") });

it("answers a run owned by another process in 2 round trips on the process asked, 2 on the owner", async () => {
  const schema = `answer_${randomBytes(4).toString("hex")}`;
  // Lifetimes far beyond the test: no renewal, takeover pass or slow poll runs while counting.
  const quiet = { leaseTtlMs: 600_000, idleReleaseMs: 600_000 };
  const store = (name: string) =>
    new PostgresStore({ connectionString: db.url, application_name: name }, { schema, heartbeatMs: 600_000 });
  const a = makeServer({ store: store("owner"), ...quiet });
  const b = makeServer({ store: store("other"), ...quiet });
  servers.push(a, b);
  await callJson(b, "GET", "/health");
  const reader = new pg.Client({ connectionString: db.url });
  await reader.connect();
  try {
    const inboxEmpty = async () =>
      (await reader.query(`SELECT count(*)::int AS n FROM ${schema}.inbox`)).rows[0].n === 0;
    const { body } = await callJson<{ handler_id: string }>(a, "POST", "/workflows/waiting/run-nowait", {});
    const id = body.handler_id;
    await until(
      async () =>
        (await reader.query(`SELECT 1 FROM ${schema}.states WHERE handler_id = $1`, [id])).rowCount === 1,
      {
        what: "the run's first commit",
      },
    );

    // A first answer warms both processes' pools up; the run goes on.
    const ping = { event: { type: "Ping", value: { n: 7 } } };
    expect((await callJson(b, "POST", `/events/${id}`, ping)).status).toBe(200);
    await until(inboxEmpty, { what: "the owner to take the first answer in" });
    expect(b.liveRunCount).toBe(0);

    const before = trips();
    const sent = await callJson(b, "POST", `/events/${id}`, { event: { type: "Finish", value: {} } });
    expect(sent).toMatchObject({ status: 200, body: { status: "sent" } });
    const asked = trips().other - before.other;
    await until(() => a.liveRunCount === 0, { what: "the run to end on its owner" });
    const owner = trips().owner - before.owner;
    expect(b.liveRunCount).toBe(0);
    const stored = await reader.query(
      `SELECT status, result::text AS result FROM ${schema}.handlers WHERE handler_id = $1`,
      [id],
    );
    expect(stored.rows[0]).toEqual({ status: "completed", result: "7" });
    expect(await inboxEmpty()).toBe(true);
    expect({ asked, owner }).toEqual({ asked: 2, owner: 2 });
  } finally {
    await reader.end();
  }
});
