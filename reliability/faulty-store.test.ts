// Fault injection: a real WorkflowServer on a SQLite file wrapped in a FaultyStore that fails commits.
// A failed write must never leave a half-recorded handler or event, the client must get a clear
// error, and the server must recover once the faults stop.
import { join } from "node:path";
import { WorkflowClient, WorkflowClientError } from "eventloom/client";
import { SqliteStore, WorkflowServer } from "eventloom/server";
import { afterEach, describe, expect, it } from "vitest";
import { tempDir } from "../packages/eventloom/test/cli/cli-process.js";
import { FaultyStore } from "../packages/eventloom/test/support/faulty-store.js";
import {
  answerFor,
  expectedOutcome,
  startInput,
  type TortureKind,
  tortureAdditionalEvents,
  tortureWorkflows,
} from "./fixtures/torture-workflows.js";
import { reportFigures } from "./support/figures.js";
import { SEED, seededRandom, sized } from "./support/mode.js";
import { checkStore } from "./support/store-invariants.js";

const ROUNDS = sized(25, 300);
const KINDS: TortureKind[] = ["stream", "ask", "fan-out", "fail", "retry"];

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function setup() {
  const dir = await tempDir("reliability-faults-");
  cleanups.push(dir.cleanup);
  const inner = new SqliteStore(join(dir.path, "w.db"), { synchronous: "normal" });
  const store = new FaultyStore(inner);
  const server = new WorkflowServer({ store, idleReleaseMs: Number.POSITIVE_INFINITY });
  for (const [name, workflow] of Object.entries(tortureWorkflows)) {
    server.addWorkflow(name, workflow, {
      additionalEvents: name === "ask" ? [...tortureAdditionalEvents.ask] : [],
    });
  }
  const { url } = await server.serve({ host: "127.0.0.1", port: 0 });
  cleanups.push(() => server.close());
  const client = new WorkflowClient({ baseUrl: url, timeoutMs: 20_000 });
  return { inner, store, server, client, url };
}

/** Resolves once `check` holds, re-checking after every durable write of the store. */
async function whenStored(
  inner: SqliteStore,
  check: () => Promise<boolean>,
  timeoutMs = 20_000,
): Promise<void> {
  if (await check()) return;
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      off();
      reject(new Error(`condition not met within ${timeoutMs} ms`));
    }, timeoutMs);
    let checking = false;
    const off = inner.subscribe(() => {
      if (checking) return;
      checking = true;
      void check().then((ok) => {
        checking = false;
        if (!ok) return;
        clearTimeout(timer);
        off();
        resolve();
      }, reject);
    });
  });
}

/** A server error as the contract wants it: a 5xx with a code and a sentence, nothing internal. */
function expectClearServerError(error: unknown): WorkflowClientError {
  expect(error).toBeInstanceOf(WorkflowClientError);
  const e = error as WorkflowClientError;
  expect(e.status).toBeGreaterThanOrEqual(500);
  expect(e.code).toMatch(/^[A-Z_]+$/);
  expect(e.detail.length).toBeGreaterThan(0);
  expect(e.detail).not.toContain("injected fault"); // internals do not leak
  return e;
}

describe("fault injection (FaultyStore)", () => {
  it("a refused commit answers a clear 5xx, records nothing half-way, and is written once the store works again", async () => {
    const { inner, store, client } = await setup();
    await client.runWorkflow("retry", { handlerId: "before-faults", startEvent: { n: 1, failures: 0 } });

    store.plan({ at: { commit: [store.calls.commit + 1] } });
    const refused = await client
      .runWorkflowNowait("ask", { handlerId: "refused", startEvent: { n: 7 } })
      .catch((e: unknown) => e);
    expectClearServerError(refused);
    expect(store.faults.commit).toBe(1);
    expect((await checkStore(inner)).problems).toEqual([]);

    // The server keeps the run and writes it on its next try: it is whole when it appears.
    await whenStored(inner, async () => (await inner.getHandler("refused")) !== null);
    const summary = await checkStore(inner);
    expect(summary.problems).toEqual([]);
    expect(summary.handlers.map((h) => h.handlerId).sort()).toEqual(["before-faults", "refused"]);
    await client.sendEvent("refused", { type: "Answer", value: { text: answerFor(7) } });
    const result = await client.runWorkflow("retry", {
      handlerId: "after-faults",
      startEvent: { n: 2, failures: 1 },
    });
    expect(result.result).toEqual({ kind: "retry", n: 2, triple: 6 });
    await whenStored(inner, async () => (await inner.getHandler("refused"))?.status === "completed");
    expect((await client.getResult("refused")).result).toEqual(expectedOutcome("ask", { n: 7 }).result);
    expect(await client.isHealthy()).toBe(true);
  });

  it("an answer whose commit is refused gets a clear 5xx; the run still ends as an uninterrupted one would", async () => {
    const { inner, store, client } = await setup();
    await client.runWorkflowNowait("ask", { handlerId: "asked", startEvent: { n: 3 } });
    store.plan({ at: { commit: [store.calls.commit + 1] } });
    const refused = await client
      .sendEvent("asked", { type: "Answer", value: { text: answerFor(3) } })
      .catch((e: unknown) => e);
    expectClearServerError(refused);
    expect((await checkStore(inner)).problems).toEqual([]);
    await whenStored(inner, async () => (await inner.getHandler("asked"))?.status === "completed");
    expect((await checkStore(inner)).problems).toEqual([]);
    expect((await client.getResult("asked")).result).toEqual({ kind: "ask", n: 3, answer: answerFor(3) });
  });

  it("a commit that lands but reports an error (outcome unknown) wedges neither the handler nor the server", async () => {
    const { inner, store, client } = await setup();
    await client.runWorkflowNowait("ask", { handlerId: "unknown-outcome", startEvent: { n: 5 } });
    store.plan({ at: { commit: [store.calls.commit + 1] }, timing: "after" });
    const answered = await client
      .sendEvent("unknown-outcome", { type: "Answer", value: { text: answerFor(5) } })
      .catch((e: unknown) => e);
    expectClearServerError(answered);
    expect((await checkStore(inner)).problems).toEqual([]);
    // Later writes of this handler and of others still go through (regression:
    // packages/eventloom/test/regression/commit-outcome-unknown-wedges-writer.test.ts).
    const other = await client.runWorkflow("retry", {
      handlerId: "other",
      startEvent: { n: 4, failures: 0 },
    });
    expect(other.result).toEqual({ kind: "retry", n: 4, triple: 12 });
    await whenStored(inner, async () => (await inner.getHandler("unknown-outcome"))?.status === "completed");
    expect((await checkStore(inner)).problems).toEqual([]);
    expect((await client.getResult("unknown-outcome")).result).toEqual({
      kind: "ask",
      n: 5,
      answer: answerFor(5),
    });
  });

  it("random refused commits under a mix of runs: every error is a clear 5xx, the store is never half-written, every run ends right", {
    timeout: sized(60_000, 600_000),
  }, async () => {
    const random = seededRandom(SEED);
    const { inner, store, client } = await setup();
    store.plan({ probability: 0.25, seed: SEED });
    const runs: { id: string; kind: TortureKind; input: Record<string, number>; answered: boolean }[] = [];
    let errors = 0;
    for (let i = 0; i < ROUNDS; i++) {
      const kind = KINDS[Math.floor(random() * KINDS.length)] as TortureKind;
      const run = { id: `fault-${i}`, kind, input: startInput(kind, i, random), answered: false };
      runs.push(run);
      const started = await client
        .runWorkflowNowait(kind, { handlerId: run.id, startEvent: run.input })
        .catch((e: unknown) => e);
      if (started instanceof Error) {
        expectClearServerError(started);
        errors++;
      }
      // answer an earlier question now and then (its run may not be recorded yet: 404 then)
      const waiting = runs.find((r) => r.kind === "ask" && !r.answered && r !== run);
      if (waiting && random() < 0.5) {
        const sent = await client
          .sendEvent(waiting.id, { type: "Answer", value: { text: answerFor(waiting.input["n"] as number) } })
          .catch((e: unknown) => e);
        if (!(sent instanceof WorkflowClientError && sent.status === 404)) waiting.answered = true;
        if (sent instanceof Error && !(sent instanceof WorkflowClientError && sent.status === 404)) {
          expectClearServerError(sent);
          errors++;
        }
      }
      const summary = await checkStore(inner);
      expect(summary.problems, `round ${i}, seed ${SEED}`).toEqual([]);
    }
    const faults = store.faultsInjected;
    expect(faults, "faults were injected").toBeGreaterThan(0);

    // The faults stop: everything recorded in memory reaches the store, every run ends as it should.
    store.plan({});
    await whenStored(inner, async () => {
      for (const run of runs) if (!(await inner.getHandler(run.id))) return false;
      return true;
    });
    for (const run of runs) {
      if (run.kind === "ask" && !run.answered) {
        await client.sendEvent(run.id, {
          type: "Answer",
          value: { text: answerFor(run.input["n"] as number) },
        });
      }
    }
    await whenStored(inner, async () => {
      for (const run of runs) if ((await inner.getHandler(run.id))?.status === "running") return false;
      return true;
    });
    for (const run of runs) {
      const result = await client.getResult(run.id);
      const expected = expectedOutcome(run.kind, run.input);
      expect(result.status, run.id).toBe(expected.status);
      if (expected.status === "completed") expect(result.result, run.id).toEqual(expected.result);
      else expect(result.error, run.id).toContain(expected.errorIncludes);
    }
    const summary = await checkStore(inner);
    expect(summary.problems).toEqual([]);
    expect(inner.integrityCheck()).toBe("ok");
    expect(await client.isHealthy()).toBe(true);
    reportFigures("fault-injection", {
      seed: SEED,
      runs: runs.length,
      commits: store.calls.commit,
      faults_injected: faults,
      client_errors: errors,
      events: summary.events,
      half_written: 0,
      lost: 0,
    });
  });
});
