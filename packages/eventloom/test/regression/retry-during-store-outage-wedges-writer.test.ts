// Regression: one retry wedged every write. While the store refused writes, `run-nowait` with a
// client `handler_id` answered 5xx; the run went on in memory, its final flush failed and it left
// the live set, so the client's retry with the same `handler_id` started a second run at sequence 0.
// Both sequence-0 batches sat in the commit writer: once the store was back, every commit of every
// handler failed with SEQUENCE_CONFLICT until a restart.
//
// Fixed in src/server/runs/run-manager.ts (an ended run stays in memory until its last changes are
// durable, and a handler whose changes the writer still holds is busy: 409 HANDLER_RUNNING) and
// src/server/runs/commit-writer.ts (a batch refused because of one handler drops that handler's
// changes and writes the others').

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { WorkflowClient, WorkflowClientError } from "eventloom/client";
import { SqliteStore, WorkflowServer } from "eventloom/server";
import { afterEach, describe, expect, it } from "vitest";
import { add, Finish, Ping, waiting } from "../server/fixtures.js";
import { FaultyStore } from "../support/faulty-store.js";
import { until } from "../support/until.js";

interface LogLine {
  level: "info" | "warn" | "error";
  message: string;
  details: Record<string, unknown> | undefined;
}

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function setup() {
  const dir = mkdtempSync(join(tmpdir(), "wedge-"));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const inner = new SqliteStore(join(dir, "w.db"));
  const store = new FaultyStore(inner);
  const logs: LogLine[] = [];
  const log = (level: LogLine["level"]) => (message: string, details?: Record<string, unknown>) =>
    logs.push({ level, message, details });
  const server = new WorkflowServer({
    store,
    idleReleaseMs: Number.POSITIVE_INFINITY,
    logger: { info: log("info"), warn: log("warn"), error: log("error") },
  });
  server.addWorkflow("add", add);
  server.addWorkflow("waiting", waiting);
  const { url } = await server.serve({ host: "127.0.0.1", port: 0 });
  cleanups.push(() => server.close());
  return { inner, store, logs, client: new WorkflowClient({ baseUrl: url, timeoutMs: 20_000 }) };
}

const failure = (promise: Promise<unknown>): Promise<WorkflowClientError> =>
  promise.then(
    () => {
      throw new Error("expected an error answer");
    },
    (error: unknown) => {
      expect(error).toBeInstanceOf(WorkflowClientError);
      return error as WorkflowClientError;
    },
  );

const codeOf = (line: LogLine): unknown => (line.details?.["error"] as { code?: unknown } | undefined)?.code;

describe("regression: a retry while the store refuses writes", { timeout: 60_000 }, () => {
  it("gets 409 HANDLER_RUNNING instead of a second run, and every handler's commits go through once the store is back", async () => {
    const { inner, store, logs, client } = await setup();
    await client.runWorkflowNowait("waiting", { handlerId: "other" });

    store.plan({ probability: 1 }); // every commit is refused
    const first = await failure(
      client.runWorkflowNowait("add", { handlerId: "h1", startEvent: { a: 1, b: 2 } }),
    );
    expect(first.status).toBeGreaterThanOrEqual(500);
    // The run ends in memory at once; two more refused commits later, its final flush has failed too
    // (the writer retries every second), which is when it used to leave the live set.
    const refusedAtAnswer = store.faults.commit;
    await until(() => store.faults.commit >= refusedAtAnswer + 2, { what: "the final flush to fail" });
    expect(await inner.getHandler("h1")).toBeNull();

    // The retry: the first run's writes are not durable, but they are still that handler's.
    const retry = await failure(
      client.runWorkflowNowait("add", { handlerId: "h1", startEvent: { a: 1, b: 2 } }),
    );
    expect(retry.status).toBe(409);
    expect(retry.code).toBe("HANDLER_RUNNING");

    store.plan({}); // the store takes writes again
    await until(async () => (await inner.getHandler("h1"))?.status === "completed", { what: "h1 written" });
    expect((await client.getResult("h1")).result).toBe(3);
    // Every other handler's commits go through: an old one's event, a new one's run.
    expect(await client.sendEvent("other", Ping.create({ n: 7 }))).toEqual({ status: "sent" });
    expect(await client.sendEvent("other", Finish.create({}))).toEqual({ status: "sent" });
    await until(async () => (await inner.getHandler("other"))?.status === "completed", {
      what: "other ended",
    });
    expect((await client.getResult("other")).result).toBe(7);
    const next = await client.runWorkflow("add", { handlerId: "next", startEvent: { a: 2, b: 3 } });
    expect(next.result).toBe(5);
    expect((await inner.getHandler("next"))?.status).toBe("completed");

    // The outage was logged through the server's logger, and no commit ever met a conflict.
    expect(logs.filter((l) => l.level === "error" && l.message === "commit failed").length).toBeGreaterThan(
      0,
    );
    expect(logs.filter((l) => codeOf(l) === "SEQUENCE_CONFLICT")).toEqual([]);
  });

  it("an event to a run that ended in memory but is not durable gets 409 HANDLER_ENDED, never a stale copy of it from the store", async () => {
    const { inner, store, logs, client } = await setup();
    await client.runWorkflowNowait("waiting", { handlerId: "w" });
    await client.sendEvent("w", Ping.create({ n: 1 }));

    store.plan({ probability: 1 });
    const finish = await failure(client.sendEvent("w", Finish.create({})));
    expect(finish.status).toBeGreaterThanOrEqual(500);
    const refusedAtAnswer = store.faults.commit;
    await until(() => store.faults.commit >= refusedAtAnswer + 2, { what: "the final flush to fail" });
    expect((await inner.getHandler("w"))?.status).toBe("running"); // what the store holds is stale

    // The store's copy is still running, but the handler has ended: it must not be loaded again.
    const late = await failure(client.sendEvent("w", Ping.create({ n: 2 })));
    expect(late.status).toBe(409);
    expect(late.code).toBe("HANDLER_ENDED");

    store.plan({});
    await until(async () => (await inner.getHandler("w"))?.status === "completed", { what: "w written" });
    expect((await client.getResult("w")).result).toBe(1);
    const next = await client.runWorkflow("add", { handlerId: "next", startEvent: { a: 2, b: 3 } });
    expect(next.result).toBe(5);
    expect(logs.filter((l) => codeOf(l) === "SEQUENCE_CONFLICT")).toEqual([]);
  });
});
