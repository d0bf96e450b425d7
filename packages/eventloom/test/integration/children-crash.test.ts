// Child workflows (round 2 §7) across SIGKILL: the server is killed while a parent waits for its
// child, and again right after the child is told to finish (before or after the parent got its
// result, whichever the kill hits). Each time: one child, one result.
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { type CliProcess, startCli, tempDir } from "../cli/cli-process.js";
import { getJson, postJson } from "../cli/http.js";
import { useFreshDatabase } from "../support/fresh-database.js";
import { until } from "../support/until.js";

const pg = useFreshDatabase("eventloom_children_crash");
const fixture = fileURLToPath(new URL("./fixtures/child-server.ts", import.meta.url));
const running: CliProcess[] = [];
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((p) => p.kill()));
  for (const c of cleanups.splice(0)) await c();
});

async function serve(env: Record<string, string>): Promise<{ cli: CliProcess; url: string }> {
  const cli = startCli(["serve", fixture, "--host", "127.0.0.1", "--port", "0"], { env });
  running.push(cli);
  return { cli, url: await cli.ready() };
}

async function kill(cli: CliProcess): Promise<void> {
  cli.child.kill("SIGKILL");
  expect((await cli.exited).signal).toBe("SIGKILL");
}

describe("child workflows across SIGKILL", { timeout: 240_000 }, () => {
  it("a parent killed between starting its child and receiving its result gets one child and one result", async () => {
    const dir = await tempDir("eventloom-time-children-");
    cleanups.push(dir.cleanup);
    const ledger = join(dir.path, "ledger.jsonl");
    const env = { WORKFLOWS_DB: join(dir.path, "w.db"), CHILD_LEDGER: ledger };
    let { cli, url } = await serve(env);
    const tags = ["a", "b", "c"];
    const parents = new Map<string, string>();
    for (const text of tags) {
      const r = await postJson(`${url}workflows/parent/run-nowait`, { start_event: { text } });
      parents.set(text, r.body["handler_id"] as string);
    }
    const status = async (u: string, id: string) => (await getJson(`${u}handlers/${id}`)).body["status"];
    for (const text of tags) await until(async () => (await status(url, `child-of-${text}`)) === "running");

    // Killed while every parent waits for its running child.
    await kill(cli);
    ({ cli, url } = await serve(env));
    // "a" is told to finish and the server is killed at once: the parent may or may not have its result.
    expect((await postJson(`${url}events/child-of-a`, { event: { type: "Go", value: {} } })).status).toBe(
      200,
    );
    await kill(cli);
    ({ cli, url } = await serve(env));
    for (const text of ["b", "c"]) {
      expect(
        (await postJson(`${url}events/child-of-${text}`, { event: { type: "Go", value: {} } })).status,
      ).toBe(200);
    }
    for (const [text, id] of parents) {
      await until(async () => (await status(url, id)) === "completed", { timeoutMs: 60_000 });
      expect((await getJson(`${url}results/${id}`)).body).toMatchObject({ result: `done: ${text}` });
    }
    const children = (await getJson(`${url}handlers?workflow_name=child`)).body["handlers"] as {
      handler_id: string;
      parent_handler_id: string;
    }[];
    expect(children.map((c) => c.handler_id).sort()).toEqual(tags.map((t) => `child-of-${t}`));
    for (const c of children) expect(c.parent_handler_id).toBe(parents.get(c.handler_id.slice(9)));
    const lines = (await readFile(ledger, "utf8"))
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { what: string; result?: string });
    // One result per parent: each parent's step got its child's result (a step killed right after
    // may have got it twice, as any step runs again after a crash, but always the same one).
    for (const text of tags) {
      const got = lines.filter((l) => l.what === "parent-got" && l.result === `done: ${text}`);
      expect(got.length, text).toBeGreaterThanOrEqual(1);
    }
    expect(
      lines.filter((l) => l.what === "parent-got").every((l) => tags.some((t) => l.result === `done: ${t}`)),
    ).toBe(true);
    cli.child.kill("SIGTERM");
    expect((await cli.exited).code).toBe(0);
  });
});

// Issue 17: the child's end and its parent's news of it are one commit. The process is killed the very
// moment the child's end is durable (the fixture's store kills it after that commit): no later step
// of that process (telling the parent) ever runs, yet the parent gets the result once a process is up.
describe.each(["sqlite", "postgres"] as const)("a child's end on %s", (kind) => {
  it("reaches its waiting parent when the process dies the moment the child's end is durable", {
    timeout: 240_000,
  }, async () => {
    const dir = await tempDir("eventloom-child-end-");
    cleanups.push(dir.cleanup);
    const env = {
      WORKFLOWS_DB: kind === "postgres" ? pg.url : join(dir.path, "w.db"),
      WORKFLOWS_LEASE_TTL_MS: "1000",
    };
    let { cli, url } = await serve({ ...env, CHILD_DIE_AFTER_END: "child-of-d" });
    const id = (await postJson(`${url}workflows/parent/run-nowait`, { start_event: { text: "d" } })).body[
      "handler_id"
    ] as string;
    const status = async (u: string, h: string) => (await getJson(`${u}handlers/${h}`)).body["status"];
    await until(async () => (await status(url, "child-of-d")) === "running");
    // The process dies before it can answer, or just after.
    await postJson(`${url}events/child-of-d`, { event: { type: "Go", value: {} } }).catch(() => undefined);
    expect((await cli.exited).signal).toBe("SIGKILL");
    ({ cli, url } = await serve(env));
    expect(await status(url, "child-of-d")).toBe("completed");
    await until(async () => (await status(url, id)) === "completed", { timeoutMs: 60_000 });
    expect((await getJson(`${url}results/${id}`)).body).toMatchObject({ result: "done: d" });
    cli.child.kill("SIGTERM");
    expect((await cli.exited).code).toBe(0);
  });
});

// The other end of a child's life, on Postgres: the parent's call is durable and the process dies
// before the child's first record is (the fixture's store kills it just before that commit). The
// parent waits, idle with nothing due, on a child that does not exist: a restart's takeover must still
// load it, so that it starts the child. (On SQLite the parent's call and the child's first record go
// in one group commit, and a restart loads every parent waiting for children anyway.)
describe("a child's start on postgres", () => {
  it("happens after a restart when the process died between the parent's call and the child's start", {
    timeout: 240_000,
  }, async () => {
    const dir = await tempDir("eventloom-child-start-");
    cleanups.push(dir.cleanup);
    const ledger = join(dir.path, "ledger.jsonl");
    const env = { WORKFLOWS_DB: pg.url, WORKFLOWS_LEASE_TTL_MS: "1000", CHILD_LEDGER: ledger };
    let { cli, url } = await serve({ ...env, CHILD_DIE_BEFORE_START: "child-of-e" });
    // The process may die before it answers.
    await postJson(`${url}workflows/parent/run-nowait`, { start_event: { text: "e" } }).catch(
      () => undefined,
    );
    expect((await cli.exited).signal).toBe("SIGKILL");
    const read = async () =>
      (await readFile(ledger, "utf8"))
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l) as { what: string; parentDurable?: boolean });
    // The kill came with the parent's call durable and the child not: the window this test is about.
    expect((await read()).filter((l) => l.what === "died-before-child-start")).toEqual([
      expect.objectContaining({ parentDurable: true }),
    ]);
    ({ cli, url } = await serve(env));
    const status = async (h: string) => (await getJson(`${url}handlers/${h}`)).body["status"];
    await until(async () => (await status("child-of-e")) === "running", { timeoutMs: 60_000 });
    const id = (await getJson(`${url}handlers/child-of-e`)).body["parent_handler_id"] as string;
    await postJson(`${url}events/child-of-e`, { event: { type: "Go", value: {} } });
    await until(async () => (await status(id)) === "completed", { timeoutMs: 60_000 });
    expect((await getJson(`${url}results/${id}`)).body).toMatchObject({ result: "done: e" });
    expect((await read()).filter((l) => l.what === "child-done")).toHaveLength(1);
    cli.child.kill("SIGTERM");
    expect((await cli.exited).code).toBe(0);
  });
});
