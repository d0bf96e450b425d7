// A group commit that the store refuses because of one handler (SEQUENCE_CONFLICT: the store already
// holds a sequence that handler's run wants to write) must not fail the other handlers of the batch.
// Real server, real client, a real SQLite file; the conflict is real: the test writes the sequence
// into the store behind the server's back, as another writer would.

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { StartEvent, StopEvent, Workflow } from "eventloom";
import { WorkflowClient, WorkflowClientError } from "eventloom/client";
import { SqliteStore, WorkflowServer } from "eventloom/server";
import { afterEach, expect, it } from "vitest";
import { until } from "../../support/until.js";
import { add } from "../fixtures.js";

interface LogLine {
  message: string;
  details: Record<string, unknown> | undefined;
}

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** A workflow whose one step waits until the test opens the gate, then stops with its input. */
function gated() {
  let open: () => void = () => {};
  const gate = new Promise<void>((resolve) => {
    open = resolve;
  });
  let entered = 0;
  const workflow = new Workflow({ name: "Gated" }).step(
    "wait",
    { accepts: [StartEvent], emits: [StopEvent] },
    async (_ctx, ev) => {
      entered++;
      await gate;
      return StopEvent.create({ result: ev.data["tag"] });
    },
  );
  return { workflow, open: () => open(), entered: () => entered };
}

it("a SEQUENCE_CONFLICT on one handler of a group commit fails that handler alone; the others of the batch are written", {
  timeout: 60_000,
}, async () => {
  const dir = mkdtempSync(join(tmpdir(), "unwritable-"));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const store = new SqliteStore(join(dir, "w.db"));
  const logs: LogLine[] = [];
  const errorLog = (message: string, details?: Record<string, unknown>) => logs.push({ message, details });
  const server = new WorkflowServer({
    store,
    idleReleaseMs: Number.POSITIVE_INFINITY,
    logger: { info: () => {}, warn: () => {}, error: errorLog },
  });
  const gate = gated();
  server.addWorkflow("gated", gate.workflow);
  server.addWorkflow("add", add);
  const { url } = await server.serve({ host: "127.0.0.1", port: 0 });
  cleanups.push(() => server.close());
  const client = new WorkflowClient({ baseUrl: url, timeoutMs: 30_000 });

  const conflicted = client
    .runWorkflow("gated", { handlerId: "x", startEvent: { tag: "x" } })
    .catch((e) => e);
  const bystander = client.runWorkflow("gated", { handlerId: "y", startEvent: { tag: "y" } });
  // Both steps are running and that is durable: nothing of either run is pending now.
  const durablyInFlight = async (id: string) =>
    Object.keys((await store.loadState(id))?.inFlight ?? {}).length > 0;
  await until(
    async () => gate.entered() === 2 && (await durablyInFlight("x")) && (await durablyInFlight("y")),
    {
      what: "both steps running, durably",
    },
  );

  // Another writer claims the next sequence of x.
  const next = (await store.loadState("x"))?.nextSequence as number;
  const [row] = await store.readEventRows("x", -1, 1);
  await store.commit({
    events: [{ handlerId: "x", events: [{ sequence: next, json: row?.json as string }] }],
  });

  gate.open(); // both steps stop in the same tick: one batch holds x and y
  const y = await bystander;
  expect(y.status).toBe("completed");
  expect(y.result).toBe("y");
  expect((await store.getHandler("y"))?.status).toBe("completed");

  // x's run could not be written: its sync client is told so, never a success.
  const x = await conflicted;
  expect(x).toBeInstanceOf(WorkflowClientError);
  expect((x as WorkflowClientError).status).toBe(409);
  expect((x as WorkflowClientError).code).toBe("SEQUENCE_CONFLICT");
  // What the store holds of x is its last durable state: still running, the conflicting run dropped.
  expect((await store.getHandler("x"))?.status).toBe("running");

  const refused = logs.filter((l) => l.message.startsWith("commit refused for one handler"));
  expect(refused.map((l) => [l.details?.["handlerId"], l.details?.["handlers"]])).toEqual([["x", 2]]);
  // No loop: later commits go through and no commit failed again.
  expect((await client.runWorkflow("add", { handlerId: "after", startEvent: { a: 1, b: 1 } })).result).toBe(
    2,
  );
  expect(logs.filter((l) => l.message === "commit failed")).toEqual([]);
  expect(logs.filter((l) => l.message.startsWith("commit refused for one handler"))).toHaveLength(1);
});
