// Growth without bounds, as seen on the first round's main: a step emitted 10 MB events (30 of them
// took the server to 1 GiB), and ten 10 MB results made GET /handlers one 100 MiB answer. Now an
// event over `maxEventBytes` (1 MiB by default) fails its step with EVENT_TOO_LARGE and is stored
// nowhere, and a listing leaves out results over 4 KiB (`result_truncated`).
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { defineEvent, StartEvent, StopEvent, Workflow } from "eventloom";
import { WorkflowClient } from "eventloom/client";
import { SqliteStore, WorkflowServer } from "eventloom/server";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { z } from "zod";
import { until } from "../server/helpers.js";

const Chunk = defineEvent("growth.Chunk", z.object({ text: z.string() }));
const MiB = 1024 * 1024;

let dir = "";
let server: WorkflowServer | null = null;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "eventloom-growth-"));
});
afterEach(async () => {
  await server?.close();
  server = null;
  rmSync(dir, { recursive: true, force: true });
});

async function serve(wf: Workflow, options: { maxEventBytes?: number } = {}) {
  server = new WorkflowServer({ store: new SqliteStore(join(dir, "w.db")), token: "", ...options });
  server.addWorkflow("w", wf);
  const { url } = await server.serve({ host: "127.0.0.1", port: 0 });
  return Object.assign(new WorkflowClient({ baseUrl: url }), { url });
}

describe("unbounded growth", () => {
  it("fails a step that streams a 10 MB event with EVENT_TOO_LARGE, naming the step, and stores nothing of it", async () => {
    const wf = new Workflow({ name: "w", timeout: null }).step(
      "flood",
      { accepts: [StartEvent], emits: [StopEvent], retry: { maxAttempts: 3, delay: 0.01 } },
      (ctx) => {
        for (let i = 0; i < 3; i++) ctx.writeEventToStream(Chunk.create({ text: "x".repeat(10 * MiB) }));
        return StopEvent.create({ result: "flooded" });
      },
    );
    const client = await serve(wf);
    await client.runWorkflow("w", {}).catch(() => undefined);
    const [record] = (await client.getHandlersPage({ workflowName: "w" })).handlers;
    expect(record?.status).toBe("failed");
    expect(record?.error).toMatch(
      /^Step "flood" failed after 1 attempt\(s\): EventTooLargeError: EVENT_TOO_LARGE: step "flood" made a Chunk of 10485771 bytes of JSON, more than maxEventBytes \(1048576\)/,
    );
    // Not retried (1 attempt), and nothing of the 30 MB reached the file.
    const events = [];
    for await (const e of client.getWorkflowEvents(record?.handlerId ?? "", { includeInternal: true }))
      events.push(e);
    expect(events.some((e) => e.type === "Chunk")).toBe(false);
    expect(events.at(-1)?.type).toBe("WorkflowFailedEvent");
    await server?.close();
    const bytes = ["w.db", "w.db-wal"].map((f) => {
      try {
        return statSync(join(dir, f)).size;
      } catch {
        return 0;
      }
    });
    expect(bytes[0]! + bytes[1]!).toBeLessThan(MiB);
  });

  it("lets an event up to maxEventBytes through, and a server may raise it", async () => {
    const wf = new Workflow({ name: "w", timeout: null }).step(
      "one",
      { accepts: [StartEvent], emits: [StopEvent] },
      (ctx) => {
        ctx.writeEventToStream(Chunk.create({ text: "x".repeat(2 * MiB) }));
        return StopEvent.create({ result: "ok" });
      },
    );
    const client = await serve(wf, { maxEventBytes: 3 * MiB });
    expect((await client.runWorkflow("w", {})).result).toBe("ok");
  });

  it("keeps GET /handlers small whatever the results weigh, and gives each whole result on its own", async () => {
    const wf = new Workflow({ name: "w", timeout: null }).step(
      "big",
      { accepts: [StartEvent], emits: [StopEvent] },
      () => StopEvent.create({ result: "r".repeat(900 * 1024) }),
    );
    const client = await serve(wf);
    const ids: string[] = [];
    for (let i = 0; i < 10; i++) ids.push((await client.runWorkflow("w", {})).handlerId);

    const raw = await (await fetch(`${client.url}/handlers?workflow_name=w`)).text();
    expect(raw.length).toBeLessThan(10_000);
    const page = await client.getHandlersPage({ workflowName: "w" });
    expect(page.handlers).toHaveLength(10);
    for (const h of page.handlers) expect(h).toMatchObject({ result: null, resultTruncated: true });
    expect(JSON.stringify(page).length).toBeLessThan(10_000);

    const one = await client.getHandler(ids[0] as string);
    expect((one.result as string).length).toBe(900 * 1024);
    expect(one.resultTruncated).toBeUndefined();
  });
  it("keeps GET /handlers small whatever the errors weigh: an error over 4096 bytes is cut to its first 1024 characters", async () => {
    const wf = new Workflow({ name: "w", timeout: null }).step(
      "boom",
      { accepts: [StartEvent], emits: [StopEvent] },
      () => {
        throw new Error(`the model said: ${"é".repeat(300 * 1024)}`);
      },
    );
    const client = await serve(wf);
    const ids: string[] = [];
    for (let i = 0; i < 10; i++) ids.push((await client.runWorkflowNowait("w", {})).handlerId);
    let raw = "";
    let listed: { handlers: { error: string; error_truncated?: true }[] } = { handlers: [] };
    await until(async () => {
      raw = await (await fetch(`${client.url}/handlers?workflow_name=w&status=failed`)).text();
      listed = JSON.parse(raw) as typeof listed;
      return listed.handlers.length === 10;
    });
    for (const h of listed.handlers) {
      expect(h.error_truncated).toBe(true);
      expect([...h.error]).toHaveLength(1024);
      expect(h.error).toMatch(/^Step "boom" failed after 1 attempt\(s\): Error: the model said: é/);
    }
    expect(Buffer.byteLength(raw)).toBeLessThan(10 * 4096 + 10_000);
    const page = await client.getHandlersPage({ workflowName: "w" });
    for (const h of page.handlers) expect(h.errorTruncated).toBe(true);

    const one = await client.getHandler(ids[0] as string);
    expect(one.error?.length).toBeGreaterThan(300 * 1024);
    expect(one.errorTruncated).toBeUndefined();
  });
});
