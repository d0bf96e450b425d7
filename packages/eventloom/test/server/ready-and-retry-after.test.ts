import { mkdtempSync, rmSync, unlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { WorkflowClient } from "eventloom/client";
import { MemoryStore, SqliteStore, WorkflowServer } from "eventloom/server";
import { afterEach, describe, expect, it } from "vitest";
import { waiting } from "./fixtures.js";

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function serveSqlite(token?: string) {
  const dir = mkdtempSync(join(tmpdir(), "eventloom-ready-"));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, "w.db");
  const server = new WorkflowServer({ store: new SqliteStore(path), ...(token ? { token } : {}) });
  server.addWorkflow("waiting", waiting);
  cleanups.push(() => server.close());
  const { url } = await server.serve({ host: "127.0.0.1", port: 0 });
  return { path, url: url.replace(/\/$/, "") };
}

const deleteFile = (path: string) => {
  for (const suffix of ["", "-wal", "-shm"]) unlinkSync(`${path}${suffix}`);
};

describe("a store that refuses writes, as a client sees it", { timeout: 60_000 }, () => {
  it("GET /ready answers 200 ready while the SQLite file takes writes, 503 STORE_UNAVAILABLE naming the file once it was deleted", async () => {
    const { path, url } = await serveSqlite();
    await new WorkflowClient({ baseUrl: url }).runWorkflowNowait("waiting");
    const ok = await fetch(`${url}/ready`);
    expect(ok.status).toBe(200);
    expect(await ok.json()).toEqual({ status: "ready" });

    deleteFile(path);
    const refused = await fetch(`${url}/ready`);
    expect(refused.status).toBe(503);
    expect(refused.headers.get("retry-after")).toBe("2");
    const body = (await refused.json()) as { detail: string; code: string };
    expect(body.code).toBe("STORE_UNAVAILABLE");
    expect(body.detail).toContain(`${path} was deleted or replaced`);
    // Liveness is not readiness: the process still answers.
    expect((await fetch(`${url}/health`)).status).toBe(200);
  });

  it("run-nowait on a store that refuses writes: 503 STORE_UNAVAILABLE with Retry-After and the handler_id it created", async () => {
    const { path, url } = await serveSqlite();
    await new WorkflowClient({ baseUrl: url }).runWorkflowNowait("waiting");
    deleteFile(path);
    const res = await fetch(`${url}/workflows/waiting/run-nowait`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ handler_id: "h-chosen" }),
    });
    expect(res.status).toBe(503);
    expect(res.headers.get("retry-after")).toBe("2");
    expect(await res.json()).toMatchObject({ code: "STORE_UNAVAILABLE", handler_id: "h-chosen" });

    const generated = await fetch(`${url}/workflows/waiting/run-nowait`, { method: "POST" });
    expect(generated.status).toBe(503);
    const body = (await generated.json()) as { handler_id?: unknown };
    expect(typeof body.handler_id).toBe("string");
  });

  it("GET /ready needs no token, but tells the reason only with it", async () => {
    const { path, url } = await serveSqlite("s3cret");
    expect((await fetch(`${url}/ready`)).status).toBe(200);
    // Something that writes, so that the file guard has the WAL's identity too.
    await new WorkflowClient({ baseUrl: url, token: "s3cret" }).runWorkflowNowait("waiting");
    deleteFile(path);
    const anonymous = await fetch(`${url}/ready`);
    expect(anonymous.status).toBe(503);
    expect(await anonymous.json()).toEqual({ detail: "The server is not ready", code: "STORE_UNAVAILABLE" });
    const told = await fetch(`${url}/ready`, { headers: { authorization: "Bearer s3cret" } });
    expect(((await told.json()) as { detail: string }).detail).toContain(path);
  });

  it("GET /ready on a memory store is 200, and 503 SERVER_CLOSING once close() began", async () => {
    const server = new WorkflowServer({ store: new MemoryStore() });
    server.addWorkflow("waiting", waiting);
    const { url } = await server.serve({ host: "127.0.0.1", port: 0 });
    expect((await server.fetch(new Request(`${url}/ready`))).status).toBe(200);
    const closing = server.close();
    const res = await server.fetch(new Request(`${url}/ready`));
    expect(res.status).toBe(503);
    expect(((await res.json()) as { code: string }).code).toBe("SERVER_CLOSING");
    await closing;
  });
});
