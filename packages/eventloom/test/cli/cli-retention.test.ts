// WORKFLOWS_RETENTION through the CLI as a child process: ended handlers go after that age while the
// server runs, a running one stays, and a value that is not a duration stops the start with one line.
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { until } from "../support/until.js";
import { type CliProcess, fixture, STARTUP_MS, startCli, tempDir } from "./cli-process.js";
import { getJson, postJson } from "./http.js";

const running: CliProcess[] = [];
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((p) => p.kill()));
  for (const c of cleanups.splice(0)) await c();
});

async function start(env: Record<string, string>): Promise<CliProcess> {
  const dir = await tempDir();
  cleanups.push(dir.cleanup);
  const cli = startCli(["serve", fixture("seed-server.ts"), "--host", "127.0.0.1", "--port", "0"], {
    env: { WORKFLOWS_DB: join(dir.path, "w.db"), ...env },
  });
  running.push(cli);
  return cli;
}

describe("WORKFLOWS_RETENTION", () => {
  it("deletes a completed handler once it is older than the retention, and keeps a running one", async () => {
    const cli = await start({ WORKFLOWS_RETENTION: "completed=1s,failed=1s" });
    const url = await cli.ready();
    const done = await postJson(`${url}workflows/greet/run`, { start_event: { name: "Ada" } });
    expect(done.body).toMatchObject({ status: "completed" });
    const waiting = await postJson(`${url}workflows/human/run-nowait`, {});
    const doneId = done.body["handler_id"] as string;
    const waitingId = waiting.body["handler_id"] as string;

    await until(async () => (await getJson(`${url}handlers/${doneId}`)).status === 404, {
      timeoutMs: 30_000,
      what: "the completed handler to be deleted",
    });
    expect((await getJson(`${url}handlers/${waitingId}`)).body).toMatchObject({ status: "running" });
    expect(cli.stderr()).toMatch(/retention: deleted ended handlers/);
  });

  it("stops the start with one line naming a value that is not a duration", async () => {
    const cli = await start({ WORKFLOWS_RETENTION: "a week" });
    let timer: NodeJS.Timeout | undefined;
    const exit = await Promise.race([
      cli.exited,
      new Promise<null>((resolve) => {
        timer = setTimeout(() => resolve(null), STARTUP_MS);
      }),
    ]);
    clearTimeout(timer);
    expect(exit?.code).not.toBe(0);
    expect(cli.stderr()).toMatch(/Invalid WORKFLOWS_RETENTION "a week": not a duration/);
  });
});
