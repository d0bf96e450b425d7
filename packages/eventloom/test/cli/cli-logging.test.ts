import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { type CliProcess, fixture, startCli, tempDir } from "./cli-process.js";
import { postJson } from "./http.js";

const running: CliProcess[] = [];
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((p) => p.kill()));
  for (const c of cleanups.splice(0)) await c();
});

async function serve(args: string[], env: Record<string, string> = {}) {
  const dir = await tempDir();
  cleanups.push(dir.cleanup);
  const cli = startCli(
    ["serve", fixture("failing-server.ts"), "--host", "127.0.0.1", "--port", "0", ...args],
    {
      env: { WORKFLOWS_DB: join(dir.path, "w.db"), ...env },
    },
  );
  running.push(cli);
  return { cli, url: await cli.ready() };
}

/** Resolves once stderr holds `count` lines matching `pattern` (the process writes them as it goes). */
async function stderrLines(cli: CliProcess, pattern: RegExp, count: number): Promise<string[]> {
  for (;;) {
    const lines = cli
      .stderr()
      .split("\n")
      .filter((l) => pattern.test(l));
    if (lines.length >= count) return lines;
    await new Promise<void>((resolve, reject) => {
      cli.child.stderr?.once("data", () => resolve());
      void cli.exited.then(() => reject(new Error(`the CLI exited; stderr: ${cli.stderr()}`)));
    });
  }
}

describe("eventloom serve logs to stderr", { timeout: 120_000 }, () => {
  it("one text line per failed attempt (workflow, handler, step, attempt, error) with the stack after it; the record names step and error class", async () => {
    const { cli, url } = await serve([]);
    const res = await postJson(`${url}workflows/payments/run`, {});
    expect(res.status).toBe(500);
    const record = res.body as { handler_id: string; error: string };
    expect(record.error).toBe('Step "charge" failed after 2 attempt(s): TypeError: card declined');

    const [retried, failed] = await stderrLines(cli, / step failed/, 2);
    expect(retried).toMatch(/^\S+Z WARN {2}step failed; it will be retried /);
    expect(failed).toMatch(/^\S+Z ERROR step failed; the run fails /);
    for (const [line, attempt] of [
      [retried, 1],
      [failed, 2],
    ] as const) {
      expect(line).toContain(`workflow=payments handlerId=${record.handler_id}`);
      expect(line).toContain(`step=charge attempt=${attempt} error="TypeError: card declined"`);
    }
    // The stack follows the line, indented, and names the function that threw.
    expect(cli.stderr()).toMatch(/the run fails [^\n]*\n {4}at chargeCard /);
  });

  it("--log-format json: one JSON object a line with the error's name, message and stack; --log-level error drops the retried attempt", async () => {
    const { cli, url } = await serve(["--log-format", "json"], { WORKFLOWS_LOG_LEVEL: "error" });
    const res = await postJson(`${url}workflows/payments/run`, {});
    const handlerId = (res.body as { handler_id: string }).handler_id;
    const [line] = await stderrLines(cli, /step failed/, 1);
    const record = JSON.parse(line as string) as Record<string, unknown>;
    expect(record).toMatchObject({
      level: "error",
      msg: "step failed; the run fails",
      workflow: "payments",
      handlerId,
      step: "charge",
      attempt: 2,
      error: { name: "TypeError", message: "card declined" },
    });
    expect((record["error"] as { stack: string }).stack).toContain("at chargeCard");
    expect(typeof record["time"]).toBe("string");
    // Every stderr line is JSON, and the warn-level retry was not logged.
    const lines = cli.stderr().split("\n").filter(Boolean);
    for (const l of lines) expect(() => JSON.parse(l)).not.toThrow();
    expect(lines.filter((l) => l.includes("will be retried"))).toEqual([]);
  });
});
