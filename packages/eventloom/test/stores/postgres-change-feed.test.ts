// Issue 21, item 5: answers never wait for an idle release because a notice went astray. A commit
// that sends no notice (inbox-only) expects none, and while listening, the heartbeat is a slow poll
// that delivers the changes no notification named.
import { randomBytes } from "node:crypto";
import pg from "pg";
import { afterAll, expect, it } from "vitest";
import { systemClock } from "../../src/core/clock.js";
import { LeasedOwnership } from "../../src/server/cluster/leased-ownership.js";
import { silentLogger } from "../../src/server/logger.js";
import { PostgresStore } from "../../src/stores/postgres/index.js";
import { useFreshDatabase } from "../support/fresh-database.js";
import { until } from "../support/until.js";

const db = useFreshDatabase("workflows_pgfence_feed");
const opened: PostgresStore[] = [];

afterAll(async () => {
  await Promise.allSettled(opened.map((s) => s.close()));
});

it("delivers, while listening, a change that no notification named, within a heartbeat or two", async () => {
  const schema = `feed_${randomBytes(4).toString("hex")}`;
  const store = new PostgresStore({ connectionString: db.url }, { schema, heartbeatMs: 100 });
  opened.push(store);
  await store.init();
  expect(store.listenState).toBe("listening");
  const heard: string[] = [];
  store.subscribe((ids) => heard.push(...ids));
  const c = new pg.Client({ connectionString: db.url });
  await c.connect();
  try {
    // A change stamped without a NOTIFY: as if its notice were lost on the way.
    await c.query(`INSERT INTO ${schema}.changes (handler_id, xid) VALUES ('ghost', pg_current_xact_id())`);
  } finally {
    await c.end();
  }
  await until(() => heard.includes("ghost"), { what: "the unnamed change delivered" });
  expect(store.listenState).toBe("listening");
});

it("expects no own notice for a batch that sends none, so another process's notice is not taken for it", () => {
  const store = new PostgresStore({ connectionString: db.url }, { schema: "unused" });
  opened.push(store);
  const ownership = new LeasedOwnership(store, { ttlMs: 1000, logger: silentLogger, clock: systemClock });
  // An inbox-only batch of "h": fenced, but no record or event of it, so no notice.
  ownership.fences(["h"], []);
  expect(ownership.foreign(["h"])).toEqual(["h"]);
  // A batch with its record: its own notice is expected once.
  ownership.fences(["h"], ["h"]);
  expect(ownership.foreign(["h"])).toEqual([]);
  expect(ownership.foreign(["h"])).toEqual(["h"]);
});
