// Regression: a SQLite file that could not take writes was invisible or opaque to clients.
// - Deleted while the server ran (`rm -rf .workflows`), SQLite went on writing to the unlinked
//   file: runs and events were acknowledged, /health was healthy, and a restart found nothing.
// - A full disk, a read-only file or an I/O error answered 500 INTERNAL_ERROR.
//
// Fixed in src/stores/sqlite/file-guard.ts (after each write the file must still be at its path)
// and src/stores/sqlite/store-errors.ts (such errors are STORE_UNAVAILABLE, naming cause and file).

import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, statfsSync, unlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { WorkflowClient, WorkflowClientError } from "eventloom/client";
import { SqliteStore, WorkflowServer } from "eventloom/server";
import { afterEach, describe, expect, it } from "vitest";
import { Ping, waiting } from "../server/fixtures.js";

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function serveOn(path: string) {
  const server = new WorkflowServer({ store: new SqliteStore(path) });
  server.addWorkflow("waiting", waiting);
  cleanups.push(() => server.close());
  const { url } = await server.serve({ host: "127.0.0.1", port: 0 });
  // No retries: the server's first answer is what is tested.
  return { server, client: new WorkflowClient({ baseUrl: url, retries: 0 }) };
}

const refusal = (promise: Promise<unknown>) =>
  promise.then(
    () => {
      throw new Error("expected a refusal");
    },
    (error: unknown) => error,
  );

describe("regression: a SQLite file that cannot take writes", { timeout: 60_000 }, () => {
  it("deleted while the server runs: run-nowait and events get 503 STORE_UNAVAILABLE, and nothing is acknowledged that is not on disk", async () => {
    const dir = mkdtempSync(join(tmpdir(), "eventloom-deleted-"));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const path = join(dir, "w.db");
    const { server, client } = await serveOn(path);
    const before = await client.runWorkflowNowait("waiting");

    for (const suffix of ["", "-wal", "-shm"]) unlinkSync(`${path}${suffix}`);

    const run = await refusal(client.runWorkflowNowait("waiting"));
    expect(run).toBeInstanceOf(WorkflowClientError);
    expect(run).toMatchObject({ status: 503, code: "STORE_UNAVAILABLE" });
    expect((run as Error).message).toContain(`${path} was deleted or replaced while the store had it open`);
    const sent = await refusal(client.sendEvent(before.handlerId, Ping.create({ n: 1 })));
    expect(sent).toMatchObject({ status: 503, code: "STORE_UNAVAILABLE" });

    await server.close();
    // What a restart finds: the file as it is on disk, holding nothing acknowledged after the delete.
    const store = new SqliteStore(path);
    cleanups.push(() => store.close());
    expect((await store.listHandlers({ limit: 10 })).handlers).toEqual([]);
  });

  it.skipIf(process.getuid?.() !== 0)(
    "a full disk: run-nowait gets 503 STORE_UNAVAILABLE naming the cause and the file, and 200 again once space is freed (mounts a tmpfs: root only)",
    async () => {
      const dir = mkdtempSync(join(tmpdir(), "eventloom-full-"));
      execFileSync("mount", ["-t", "tmpfs", "-o", "size=4m", "tmpfs", dir]);
      cleanups.push(() => {
        execFileSync("umount", [dir]);
        rmSync(dir, { recursive: true, force: true });
      });
      const path = join(dir, "w.db");
      const { client } = await serveOn(path);
      await client.runWorkflowNowait("waiting");
      const filler = join(dir, "filler");
      const { bavail, bsize } = statfsSync(dir);
      writeFileSync(filler, Buffer.alloc(bavail * bsize));

      const run = await refusal(
        client.runWorkflowNowait("waiting", { startEvent: { pad: "x".repeat(64_000) } }),
      );
      expect(run).toMatchObject({ status: 503, code: "STORE_UNAVAILABLE" });
      expect((run as Error).message).toContain(
        `The SQLite store ${path} is unavailable: the disk is full (SQLITE_FULL)`,
      );

      unlinkSync(filler);
      const after = await client.runWorkflowNowait("waiting");
      expect(await client.getResult(after.handlerId)).toMatchObject({ status: "running" });
    },
  );
});
