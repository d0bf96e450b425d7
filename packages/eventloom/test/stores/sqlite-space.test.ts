// Deleting handlers gave no space back: the SQLite file kept its size (auto_vacuum was off). Files
// are made without auto_vacuum and without the index of ended handlers (both cost every commit);
// prepareRetention (before retention's first pass) makes the index and converts the file to
// INCREMENTAL with one VACUUM, as does the first reclaimSpace of a file never prepared; each
// reclaimSpace then hands freed pages back to the file system.
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { SqliteStore } from "../../src/stores/sqlite/index.js";
import { migrations } from "../../src/stores/sqlite/migrations.js";
import { eventRows } from "../../src/stores/store.js";
import { handlerRecord, publishedEvent } from "../../src/testing/index.js";
import { retentionReadiness } from "../support/sqlite-file.js";

let dir = "";
let path = "";
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "eventloom-space-"));
  path = join(dir, "w.db");
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const size = () =>
  ["", "-wal"].reduce((sum, suffix) => {
    try {
      return sum + statSync(path + suffix).size;
    } catch {
      return sum;
    }
  }, 0);
const autoVacuum = () => retentionReadiness(path)[0];

/** 150 completed handlers of about 60 KB each (result and events), ended at 2024-10-21T14:32:16Z. */
async function fill(store: SqliteStore): Promise<void> {
  for (let i = 0; i < 150; i++) {
    const id = `h${i}`;
    await store.commit({
      handlers: [
        handlerRecord(id, {
          status: "completed",
          result: "r".repeat(20_000),
          completedAt: "2024-10-21T14:32:16.000Z",
        }),
      ],
      events: [
        {
          handlerId: id,
          events: eventRows([0, 1].map((n) => publishedEvent(n, { pad: "e".repeat(20_000) }))),
        },
      ],
    });
  }
}

async function emptyAndReclaim(store: SqliteStore): Promise<void> {
  for (;;) {
    const ids = await store.deleteEnded({ completed: "2030-01-01T00:00:00.000Z" }, 100);
    if (ids.length < 100) break;
  }
  while (await store.reclaimSpace()) {
    // each call gives back a bounded number of pages
  }
}

describe("SQLite space after retention", () => {
  it("readies a new file for retention once, then gives deleted handlers' space back", async () => {
    const store = new SqliteStore(path);
    await store.init();
    expect(retentionReadiness(path)).toEqual([0, false]);
    await store.prepareRetention();
    await store.prepareRetention();
    expect(retentionReadiness(path)).toEqual([2, true]);
    await fill(store);
    const full = size();
    expect(full).toBeGreaterThan(8 * 1024 * 1024);
    await emptyAndReclaim(store);
    expect((await store.listHandlers({ limit: 10 })).handlers).toEqual([]);
    expect(size()).toBeLessThan(full / 10);
    await store.close();
  });

  it("converts a file made without auto_vacuum the first time it gives space back", async () => {
    // A file as the first releases made it: schema version 2, auto_vacuum off.
    const old = new Database(path);
    old.pragma("journal_mode = WAL");
    for (const m of migrations.filter((m) => m.version <= 2)) old.exec(m.sql);
    old.pragma("user_version = 2");
    old.close();
    expect(autoVacuum()).toBe(0);

    const store = new SqliteStore(path);
    await store.init();
    expect(autoVacuum()).toBe(0); // migrating does not rewrite the file
    await fill(store);
    const full = size();
    await emptyAndReclaim(store);
    expect(autoVacuum()).toBe(2);
    expect(size()).toBeLessThan(full / 10);
    expect(store.integrityCheck()).toBe("ok");
    await store.close();
  });
});
