import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { SqliteStore } from "../../src/stores/index.js";

const writer = fileURLToPath(new URL("./fixtures/sqlite-writer.ts", import.meta.url));
const root = fileURLToPath(new URL("../../../../", import.meta.url));

/** Runs the writer until it acknowledged `acknowledged` commits, kills it with SIGKILL, returns the last one. */
function writeThenKill(path: string, synchronous: string, acknowledged: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", writer, path, synchronous], {
      cwd: root,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let last = -1;
    let buffer = "";
    let stderr = "";
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.stdout.on("data", (chunk: Buffer) => {
      buffer += chunk.toString();
      const lines = buffer.split("\n");
      buffer = lines.pop() ?? "";
      for (const line of lines) last = Number(line);
      if (last + 1 >= acknowledged && child.exitCode === null) child.kill("SIGKILL");
    });
    child.on("error", reject);
    child.on("exit", (_code, signal) => {
      if (signal === "SIGKILL") resolve(last);
      else reject(new Error(`writer exited without being killed: ${stderr}`));
    });
  });
}

describe("SqliteStore after its process is killed", () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "workflows-crash-"));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  for (const synchronous of ["full", "normal"]) {
    it(`keeps every acknowledged commit and a sound file (synchronous ${synchronous})`, async () => {
      const path = join(dir, "crash.db");
      const last = await writeThenKill(path, synchronous, 200);
      expect(last).toBeGreaterThanOrEqual(199);

      const store = new SqliteStore(path);
      try {
        expect(store.integrityCheck()).toBe("ok");
        // Commits after the last acknowledged one may or may not have made it, but whole.
        const lastSequence = await store.lastSequence("log");
        expect(lastSequence).toBeGreaterThanOrEqual(last * 3 + 2);
        expect((lastSequence + 1) % 3).toBe(0);
        const events = await store.readEvents("log", -1, 1_000_000);
        expect(events.map((e) => e.sequence)).toEqual(Array.from({ length: lastSequence + 1 }, (_, i) => i));
        const committed = (lastSequence + 1) / 3;
        for (const i of [0, last, committed - 1]) expect(await store.getHandler(`h${i}`)).not.toBeNull();
        expect(await store.getHandler(`h${committed}`)).toBeNull();
      } finally {
        await store.close();
      }
    });
  }
});
