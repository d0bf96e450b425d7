import { existsSync } from "node:fs";
import { join } from "node:path";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { until } from "../support/until.js";
import { busyPort, type CliProcess, fixture, freePort, repoRoot, startCli, tempDir } from "./cli-process.js";
import { type Envelope, getJson, postJson, readEvents as readNdjson } from "./http.js";

const running: CliProcess[] = [];
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((p) => p.kill()));
  for (const c of cleanups.splice(0)) await c();
});

/** Processes several tests share (each started by the first test that needs it), ended after all. */
const sharedRunning: CliProcess[] = [];
const sharedCleanups: (() => Promise<void>)[] = [];
afterAll(async () => {
  await Promise.all(sharedRunning.splice(0).map((p) => p.kill()));
  for (const c of sharedCleanups.splice(0)) await c();
});

async function serve(
  args: string[],
  env: Record<string, string> = {},
  lists = { running, cleanups },
): Promise<{ cli: CliProcess; url: string }> {
  const dir = await tempDir();
  lists.cleanups.push(dir.cleanup);
  const cli = startCli(["serve", ...args], { env: { WORKFLOWS_DB: join(dir.path, "w.db"), ...env } });
  lists.running.push(cli);
  return { cli, url: await cli.ready() };
}

/**
 * One `eventloom serve` that several tests read without changing what the others see: a child
 * process starts in seconds on a loaded machine, so the tests that need the same one share it.
 */
function shared<T extends { cli: CliProcess; url: string }>(start: () => Promise<T>): () => Promise<T> {
  let started: Promise<T> | undefined;
  return () => {
    started ??= start();
    return started;
  };
}
const shareLists = { running: sharedRunning, cleanups: sharedCleanups };

/** The seed's file on 127.0.0.1, any port. */
const seedServer = shared(() =>
  serve([fixture("seed-server.ts"), "--host", "127.0.0.1", "--port", "0"], {}, shareLists),
);

/**
 * A file with one named export, on 127.0.0.1 from the flags while both environments' variables name
 * an impossible host and a busy port; the SIGINT test, the last to use it, stops it.
 */
const namedServer = shared(async () => {
  const busy = await busyPort();
  sharedCleanups.push(busy.release);
  const served = await serve(
    [fixture("named-server.ts"), "--host", "127.0.0.1", "--port", "0"],
    {
      WORKFLOWS_SERVER_HOST: "256.0.0.1",
      WORKFLOWS_SERVER_PORT: String(busy.port),
      WORKFLOWS_PY_SERVER_HOST: "256.0.0.2",
      WORKFLOWS_PY_SERVER_PORT: String(busy.port),
    },
    shareLists,
  );
  return { ...served, busyPort: busy.port };
});

const json = getJson;
const post = postJson;

/** Reads an NDJSON event stream until `stop` says so (or the stream ends); returns the envelopes. */
async function readEvents(url: string, stop: (ev: Envelope) => boolean = () => false) {
  const read = await readNdjson(url, stop);
  expect(read.status).toBe(200);
  return read.events;
}

describe("eventloom serve", { timeout: 120_000 }, () => {
  it("prints one startup line naming the workflows and the debugger URL", async () => {
    const { cli, url } = await seedServer();
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    expect(cli.stdout()).toBe(
      `eventloom: serving 2 workflows (greet, human) at ${url} — debugger at ${url}\n`,
    );
    expect(cli.stderr()).toBe("");
    expect(await json(`${url}health`)).toEqual({ status: 200, body: { status: "healthy" } });
  });

  it("serves the demo of examples/ (what npm start serves), the spec's examples among it", async () => {
    const { url } = await serve(["examples/demo-server.ts", "--host", "127.0.0.1", "--port", "0"], {
      TSX_TSCONFIG_PATH: join(repoRoot, "examples", "tsconfig.json"),
    });
    expect((await json(`${url}workflows`)).body["workflows"]).toEqual([
      "greet",
      "human",
      "math",
      "fan-out",
      "counter",
      "approval",
      "flaky",
      "trip-planner",
    ]);
    expect((await post(`${url}workflows/greet/run`, { start_event: { name: "John" } })).body["result"]).toBe(
      "Hello, John!",
    );
    expect((await post(`${url}workflows/math/run`, { start_event: { a: 12, b: 3 } })).body["result"]).toEqual(
      {
        sum: 15,
        subtraction: 9,
        multiplication: 36,
        division: 4,
      },
    );
  });

  it("serves the only exported instance when there is no default export", async () => {
    const { cli, url } = await namedServer();
    expect(cli.stdout()).toContain("serving 1 workflow (echo)");
    expect((await post(`${url}workflows/echo/run`, { start_event: { x: 1 } })).body).toMatchObject({
      status: "completed",
      result: { x: 1 },
    });
  });

  it("serves a plain JavaScript file too", async () => {
    const { url } = await serve([fixture("js-server.mjs"), "--host", "127.0.0.1", "--port", "0"]);
    expect((await post(`${url}workflows/shout/run`, { start_event: { text: "hi" } })).body["result"]).toBe(
      "HI",
    );
  });

  it("takes --host and --port over both environments' variables", async () => {
    const { url, busyPort: busy } = await namedServer();
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    expect(url).not.toContain(`:${busy}/`);
  });

  it("takes WORKFLOWS_SERVER_HOST/PORT over the seed's WORKFLOWS_PY_SERVER_HOST/PORT", async () => {
    const busy = await busyPort();
    cleanups.push(busy.release);
    const port = await freePort();
    const { url } = await serve([fixture("named-server.ts")], {
      WORKFLOWS_SERVER_HOST: "127.0.0.1",
      WORKFLOWS_SERVER_PORT: String(port),
      WORKFLOWS_PY_SERVER_HOST: "256.0.0.2",
      WORKFLOWS_PY_SERVER_PORT: String(busy.port),
    });
    expect(url).toBe(`http://127.0.0.1:${port}/`);
  });

  it("falls back to the seed's WORKFLOWS_PY_SERVER_HOST/PORT", async () => {
    const port = await freePort();
    const { url } = await serve([fixture("named-server.ts")], {
      WORKFLOWS_PY_SERVER_HOST: "127.0.0.1",
      WORKFLOWS_PY_SERVER_PORT: String(port),
    });
    expect(url).toBe(`http://127.0.0.1:${port}/`);
    expect((await json(`${url}health`)).status).toBe(200);
  });

  it("prints one warning on stderr when serving on all interfaces without a token, none on loopback", async () => {
    const open = await serve([fixture("seed-server.ts"), "--host", "0.0.0.0", "--port", "0"], {
      WORKFLOWS_SERVER_TOKEN: "",
    });
    // stderr and stdout are separate pipes: the warning may arrive after the line `ready` waited for.
    const warningLines = () =>
      open.cli
        .stderr()
        .split("\n")
        .filter((l) => / WARN .*WORKFLOWS_SERVER_TOKEN/.test(l));
    await until(() => warningLines().length > 0);
    const warnings = warningLines();
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain("WORKFLOWS_SERVER_TOKEN");
    const { cli } = await seedServer();
    expect(cli.stderr()).not.toMatch(/ WARN /);
  });

  it("answers the seed's curl calls: health, workflows, run, run-nowait, events, results, send event", async () => {
    const { url } = await seedServer();
    expect((await json(`${url}health`)).body).toEqual({ status: "healthy" });
    expect((await json(`${url}workflows`)).body).toEqual({ workflows: ["greet", "human"] });

    const ran = await post(`${url}workflows/greet/run`, { start_event: { name: "John" } });
    expect(ran).toMatchObject({
      status: 200,
      body: { status: "completed", result: "Hello, John!", error: null },
    });

    const started = await post(`${url}workflows/greet/run-nowait`, { start_event: { name: "Ada" } });
    expect(started.body).toMatchObject({ status: "started", workflow_name: "greet" });
    const id = started.body["handler_id"] as string;
    const events = await readEvents(`${url}events/${id}?sse=false&acquire_timeout=1&include_internal=false`);
    expect(events.map((e) => e["type"])).toEqual(["StreamEvent", "StreamEvent", "StreamEvent", "StopEvent"]);
    expect(events.map((e) => e["sequence"])).toEqual(
      [...events.map((e) => e["sequence"])].sort((a, b) => Number(a) - Number(b)),
    );
    expect(events[3]).toMatchObject({
      value: { result: "Hello, Ada!" },
      qualified_name: "workflows.events.StopEvent",
      types: ["workflows.events.Event", "workflows.events.StopEvent"],
    });
    expect(await json(`${url}results/${id}`)).toMatchObject({
      status: 200,
      body: { handler_id: id, status: "completed", result: "Hello, Ada!" },
    });

    const human = await post(`${url}workflows/human/run-nowait`, {});
    const humanId = human.body["handler_id"] as string;
    const asked = await readEvents(`${url}events/${humanId}?sse=false`, (e) => e["type"] === "RequestEvent");
    expect(asked.at(-1)).toMatchObject({ value: { prompt: "What is your name?" } });
    expect((await json(`${url}results/${humanId}`)).status).toBe(202);
    const sent = await post(`${url}events/${humanId}`, {
      event: { __is_pydantic: true, value: { response: "Ada" }, qualified_name: "__main__.ResponseEvent" },
    });
    expect(sent).toEqual({ status: 200, body: { status: "sent" } });
    const rest = await readEvents(`${url}events/${humanId}?sse=false`);
    expect(rest.at(-1)).toMatchObject({ type: "OutEvent", value: { output: "Hello, Ada" } });
    expect((await json(`${url}results/${humanId}`)).body).toMatchObject({
      status: "completed",
      result: { output: "Hello, Ada" },
    });
  });

  it("shuts down gracefully on SIGTERM: exit 0, store closed, a waiting run resumes after a restart", async () => {
    const dir = await tempDir();
    cleanups.push(dir.cleanup);
    const db = join(dir.path, "w.db");
    const args = ["serve", fixture("seed-server.ts"), "--host", "127.0.0.1", "--port", "0"];
    const first = startCli(args, { env: { WORKFLOWS_DB: db } });
    running.push(first);
    const url = await first.ready();
    const started = await post(`${url}workflows/human/run-nowait`, {});
    const id = started.body["handler_id"] as string;
    await readEvents(`${url}events/${id}?sse=false`, (e) => e["type"] === "RequestEvent");
    expect(existsSync(`${db}-wal`)).toBe(true); // the store is open, in WAL mode

    first.child.kill("SIGTERM");
    expect(await first.exited).toEqual({ code: 0, signal: null });
    expect(first.stdout()).toMatch(/SIGTERM received, shutting down.*\neventloom: stopped\n$/);
    expect(first.stderr()).toBe("");
    expect(existsSync(`${db}-wal`)).toBe(false); // SQLite removes the WAL when its last connection closes

    const second = startCli(args, { env: { WORKFLOWS_DB: db } });
    running.push(second);
    const url2 = await second.ready();
    expect((await json(`${url2}results/${id}`)).status).toBe(202);
    await post(`${url2}events/${id}`, { event: { type: "ResponseEvent", value: { response: "Grace" } } });
    const events = await readEvents(`${url2}events/${id}?sse=false`);
    expect(events.at(-1)).toMatchObject({ type: "OutEvent", value: { output: "Hello, Grace" } });
    expect((await json(`${url2}results/${id}`)).body).toMatchObject({ status: "completed" });
  });

  it("shuts down on SIGINT too", async () => {
    const { cli } = await namedServer(); // the last test to use it
    expect(cli.child.exitCode).toBeNull();
    cli.child.kill("SIGINT");
    expect(await cli.exited).toEqual({ code: 0, signal: null });
    expect(cli.stdout()).toContain("eventloom: stopped");
  });

  it("exits at once on a second signal while the first shutdown hangs", async () => {
    const { cli } = await serve([fixture("hanging-close.ts"), "--host", "127.0.0.1", "--port", "0"]);
    cli.child.kill("SIGTERM");
    await cli.waitForLine(/shutting down/);
    cli.child.kill("SIGTERM");
    expect(await cli.exited).toEqual({ code: 143, signal: null });
    expect(cli.stdout()).not.toContain("stopped");
  });
});
