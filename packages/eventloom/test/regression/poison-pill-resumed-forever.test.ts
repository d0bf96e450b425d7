// A step that throws in a timer callback (outside its promise) takes the process down; before the fix,
// every restart resumed the run and went down again, forever. Now each resume is counted durably before
// it starts, and after maxResumeAttempts (default 3) resumes without a finished step the run is failed
// with RESUME_CRASH_LOOP, logged, and the server stays up.
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterEach, expect, it } from "vitest";
import { type CliProcess, fixture, STARTUP_MS, startCli, tempDir } from "../cli/cli-process.js";
import { getJson, postJson } from "../cli/http.js";
import { eventually } from "../support/until.js";

const running: CliProcess[] = [];
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((p) => p.kill()));
  for (const c of cleanups.splice(0)) await c();
});

it(
  "fails a run that takes the process down on every resume with RESUME_CRASH_LOOP after 3 resumes, and stays up",
  async () => {
    const dir = await tempDir();
    cleanups.push(dir.cleanup);
    const db = join(dir.path, "w.db");
    const trigger = join(dir.path, "poison-now");
    const start = () => {
      const cli = startCli(["serve", fixture("poison-server.ts"), "--host", "127.0.0.1", "--port", "0"], {
        env: { WORKFLOWS_DB: db, POISON_TRIGGER: trigger },
      });
      running.push(cli);
      return cli;
    };
    const storedAttempts = () => {
      const file = new Database(db, { readonly: true });
      try {
        return file
          .prepare("SELECT resume_attempts FROM handlers WHERE handler_id = ?")
          .pluck()
          .get(handlerId);
      } finally {
        file.close();
      }
    };

    // First life: the run starts; the test arms the poison once the start is acknowledged (durable).
    const first = start();
    const url = await first.ready();
    const started = await postJson(`${url}workflows/poison/run-nowait`, { start_event: {} });
    expect(started.status).toBe(200);
    const handlerId = started.body["handler_id"] as string;
    await writeFile(trigger, "");
    const died = await first.exited;
    expect(died.code).not.toBe(0);
    expect(first.stderr()).toContain("poison: thrown in a timer callback");
    expect(storedAttempts()).toBe(0);

    // Each restart resumes the run, counted durably before its code runs, and goes down again.
    for (const attempt of [1, 2, 3]) {
      const cli = start();
      const exit = await cli.exited;
      expect(exit.code, cli.stderr()).not.toBe(0);
      expect(cli.stderr()).toContain("poison: thrown in a timer callback");
      expect(storedAttempts()).toBe(attempt);
    }

    // The fourth restart stops resuming it: failed, with the code in its error, and logged.
    const last = start();
    const lastUrl = await last.ready();
    const record = await eventually(
      "the poisoned run to fail",
      async () => {
        const got = await getJson(`${lastUrl}handlers/${handlerId}`);
        return got.body["status"] === "running" ? undefined : got.body;
      },
      STARTUP_MS,
    );
    expect(record["status"]).toBe("failed");
    expect(record["error"]).toMatch(/^RESUME_CRASH_LOOP: .*"explode"/);
    const logged = last
      .stderr()
      .split("\n")
      .filter((l) => l.startsWith("{"))
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .find((l) => l["handlerId"] === handlerId);
    expect(logged).toMatchObject({ level: "error", message: expect.stringMatching(/stopped resuming/) });

    // The server stays up: it answers /health and runs another workflow to its end.
    expect((await getJson(`${lastUrl}health`)).status).toBe(200);
    const echoed = await postJson(`${lastUrl}workflows/echo/run`, { start_event: { said: "still here" } });
    expect(echoed.status).toBe(200);
    expect(echoed.body["status"]).toBe("completed");
    expect(last.child.exitCode).toBeNull();
  },
  8 * STARTUP_MS,
);
