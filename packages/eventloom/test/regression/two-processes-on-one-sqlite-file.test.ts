// Regression: two `eventloom serve` processes on one SQLite file (a rolling deploy, a second serve
// in the same folder) both resumed every running handler: side effects ran twice, the stream
// interleaved both executions and a completed result changed afterwards.
//
// Fixed in src/stores/sqlite/file-lock.ts: a SqliteStore holds a lock on `<db>-lock` for its
// lifetime (dropped by the OS when its process ends, even by SIGKILL); a second process refuses to
// start with one line naming the file and the process that has it.

import { hostname } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { type CliProcess, fixture, startCli, tempDir } from "../cli/cli-process.js";
import { getJson, postJson, readEvents } from "../cli/http.js";

const running: CliProcess[] = [];
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((p) => p.kill()));
  for (const c of cleanups.splice(0)) await c();
});

describe("regression: two server processes on one SQLite file", { timeout: 180_000 }, () => {
  it("the second refuses to start with one line naming the file and the first; after a SIGKILL of the first, a new one resumes its run", async () => {
    const dir = await tempDir();
    cleanups.push(dir.cleanup);
    const db = join(dir.path, "w.db");
    const args = ["serve", fixture("seed-server.ts"), "--host", "127.0.0.1", "--port", "0"];
    const start = () => {
      const cli = startCli(args, { env: { WORKFLOWS_DB: db } });
      running.push(cli);
      return cli;
    };

    const first = start();
    const url = await first.ready();
    const started = await postJson(`${url}workflows/human/run-nowait`, {});
    const id = started.body["handler_id"] as string;
    await readEvents(`${url}events/${id}?sse=false`, (e) => e.type === "RequestEvent");

    const second = start();
    expect(await second.exited).toEqual({ code: 1, signal: null });
    expect(second.stdout()).toBe("");
    const lines = second
      .stderr()
      .split("\n")
      .filter((l) => l.startsWith("eventloom: "));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(
      new RegExp(
        `^eventloom: ${db.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")} is in use by another eventloom process \\(pid ${first.child.pid} on host ${hostname()} since \\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z\\); stop it first, or give this one another file \\(WORKFLOWS_DB\\)$`,
      ),
    );
    expect(second.stderr()).not.toMatch(/\n\s+at /);
    // The first went on undisturbed: its run still waits for its answer, once.
    const events = await readEvents(`${url}events/${id}?sse=false`, (e) => e.type === "RequestEvent");
    expect(events.events.filter((e) => e.type === "RequestEvent")).toHaveLength(1);

    first.child.kill("SIGKILL");
    expect((await first.exited).signal).toBe("SIGKILL");

    const third = start();
    const url3 = await third.ready();
    expect((await getJson(`${url3}results/${id}`)).status).toBe(202);
    await postJson(`${url3}events/${id}`, { event: { type: "ResponseEvent", value: { response: "Grace" } } });
    const all = await readEvents(`${url3}events/${id}?sse=false`);
    expect(all.events.filter((e) => e.type === "RequestEvent")).toHaveLength(1);
    expect(all.events.at(-1)).toMatchObject({ type: "OutEvent", value: { output: "Hello, Grace" } });
  });
});
