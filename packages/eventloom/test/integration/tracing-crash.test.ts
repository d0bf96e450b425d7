// One trace per run across a SIGKILL of the CLI and across a Postgres takeover: the spans of steps
// that run in the next process (resumed at startup, taken over, or woken by a later answer) belong
// to the trace of the request that started the run. Spans go over OTLP/HTTP (the default protobuf)
// to a receiver on loopback.
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type pg from "pg";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type CliProcess, startCli, tempDir } from "../cli/cli-process.js";
import { getJson, postJson } from "../cli/http.js";
import { ADMIN_URL, beforeAllOrFailEach, connectAdmin } from "../support/fresh-database.js";
import { OtlpReceiver, type ReceivedSpan } from "../support/otlp-receiver.js";
import { eventually } from "../support/until.js";

const fixture = fileURLToPath(new URL("./fixtures/traced-server.ts", import.meta.url));
const TRACE = "0af7651916cd43dd8448eb211c80319c";
const CALLER = "b7ad6b7169203331";

const receiver = new OtlpReceiver();
const running: CliProcess[] = [];
const cleanups: (() => Promise<void>)[] = [];
let admin: pg.Client | undefined;
const databases: string[] = [];

beforeAll(async () => {
  await receiver.start();
});
beforeAllOrFailEach(async () => {
  admin = await connectAdmin();
});
afterEach(async () => {
  await Promise.all(running.splice(0).map((p) => p.kill()));
  for (const c of cleanups.splice(0)) await c();
});
afterAll(async () => {
  await receiver.close();
  for (const db of databases) await admin?.query(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`);
  await admin?.end();
});

function serve(env: Record<string, string>): CliProcess {
  const cli = startCli(["serve", fixture, "--host", "127.0.0.1", "--port", "0"], {
    env: {
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
      OTEL_SERVICE_NAME: "traced-cli",
      OTEL_BSP_SCHEDULE_DELAY: "20",
      ...env,
    },
  });
  running.push(cli);
  return cli;
}

const attr = (s: ReceivedSpan, key: string) => s.attributes[key];
const stepsOf = (id: string, step: string, outcome: string) =>
  receiver.spans.filter(
    (s) =>
      s.name === "workflow.step" &&
      attr(s, "workflow.handler_id") === id &&
      attr(s, "workflow.step.name") === step &&
      attr(s, "workflow.step.outcome") === outcome,
  );
const exported = (what: string, id: string, step: string, outcome: string) =>
  eventually(what, () => stepsOf(id, step, outcome)[0], 60_000);

async function startRun(url: string): Promise<string> {
  const res = await fetch(`${url}workflows/traced/run-nowait`, {
    method: "POST",
    headers: { "content-type": "application/json", traceparent: `00-${TRACE}-${CALLER}-01` },
    body: "{}",
  });
  expect(res.status).toBe(200);
  return ((await res.json()) as { handler_id: string }).handler_id;
}

async function answerAndEnd(url: string, id: string): Promise<void> {
  await eventually("the answer to be taken", async () => {
    const r = await postJson(`${url}events/${id}`, { event: { type: "Answer", value: { ok: true } } });
    return r.status === 200 ? true : undefined;
  });
  await eventually(`the result of ${id}`, async () => {
    const r = await getJson(`${url}results/${id}`);
    return r.status === 200 ? r.body : undefined;
  });
}

/** Every step span of the run is a child of its one workflow.run span, in the caller's trace. */
function expectOneTrace(id: string): void {
  const runs = receiver.spans.filter(
    (s) => s.name === "workflow.run" && attr(s, "workflow.handler_id") === id,
  );
  expect(runs).toHaveLength(1);
  const run = runs[0] as ReceivedSpan;
  expect(run.traceId).toBe(TRACE);
  const steps = receiver.spans.filter(
    (s) => s.name === "workflow.step" && attr(s, "workflow.handler_id") === id,
  );
  for (const s of steps) {
    expect(s.traceId).toBe(TRACE);
    expect(s.parentSpanId).toBe(run.spanId);
  }
  const flaky = steps.filter((s) => attr(s, "workflow.step.name") === "flaky");
  // (An attempt whose end was not durable yet when the process died runs again: a span more.)
  const outcomes = new Set(flaky.map((s) => `${attr(s, "workflow.step.attempt")}:${s.statusCode}`));
  expect([...outcomes].sort()).toEqual(["1:2", "2:0"]);
  expect(stepsOf(id, "ask", "completed")).toHaveLength(1);
  // The answer's request, in a trace of its own, links to the run.
  const answers = receiver.spans.filter(
    (s) => s.name === "POST /events/{handler_id}" && attr(s, "workflow.handler_id") === id,
  );
  expect(answers.length).toBeGreaterThan(0);
  for (const a of answers) expect(a.links).toContainEqual({ traceId: TRACE, spanId: run.spanId });
}

describe("one trace per run across processes", { timeout: 240_000 }, () => {
  it("keeps the run's trace across a SIGKILL of the CLI and a restart on the same SQLite file", async () => {
    const dir = await tempDir("eventloom-otel-crash-");
    cleanups.push(dir.cleanup);
    const db = join(dir.path, "w.db");
    const first = serve({ WORKFLOWS_DB: db });
    const id = await startRun(await first.ready());
    // `hold` runs (and never ends in this process): its retry and the step before it are exported.
    await exported("flaky's second attempt to be exported", id, "flaky", "completed");
    first.child.kill("SIGKILL");
    expect((await first.exited).signal).toBe("SIGKILL");
    expect(receiver.contentTypes.every((t) => t === "application/x-protobuf")).toBe(true);

    // Resumed at startup, with no request: `hold` runs again, now to its end, then `ask` waits.
    const second = serve({ WORKFLOWS_DB: db, TRACED_RELEASE: "1" });
    const url = await second.ready();
    await exported("ask to wait", id, "ask", "waiting");
    expect(stepsOf(id, "hold", "completed")).toHaveLength(1);
    await answerAndEnd(url, id);
    second.child.kill("SIGTERM");
    await second.exited;
    expectOneTrace(id);
  });

  it("keeps the run's trace when another process takes it over from a killed owner on Postgres", async () => {
    const name = `workflows_otel_${randomBytes(6).toString("hex")}`;
    await admin?.query(`CREATE DATABASE ${name}`);
    databases.push(name);
    const dbUrl = new URL(ADMIN_URL);
    dbUrl.pathname = `/${name}`;
    const env = { WORKFLOWS_DB: dbUrl.toString(), WORKFLOWS_LEASE_TTL_MS: "1500" };
    const owner = serve(env);
    const id = await startRun(await owner.ready());
    await exported("flaky's second attempt to be exported", id, "flaky", "completed");
    // The other process releases `hold` (it was started with TRACED_RELEASE=1) once it takes the run.
    const other = serve({ ...env, TRACED_RELEASE: "1" });
    const url = await other.ready();
    owner.child.kill("SIGKILL");
    expect((await owner.exited).signal).toBe("SIGKILL");
    await exported("ask to wait on the other process", id, "ask", "waiting");
    expect(stepsOf(id, "hold", "completed")).toHaveLength(1);
    // Answered through a third process, which does not hold the run: the answer goes to the
    // holder's inbox, and that request's span links to the run's trace from its stored state.
    const third = serve(env);
    await answerAndEnd(await third.ready(), id);
    expect(await getJson(`${url}handlers/${id}`)).toMatchObject({ body: { status: "completed" } });
    for (const p of [other, third]) {
      p.child.kill("SIGTERM");
      await p.exited;
    }
    expectOneTrace(id);
  });
});
