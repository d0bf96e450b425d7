import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe } from "vitest";
import { MemoryStore, SqliteStore, type Store } from "../../src/stores/index.js";
import { PostgresStore } from "../../src/stores/postgres/index.js";
import { startEventsContract } from "../../src/testing/store-contract/index.js";
import { useFreshDatabase } from "../support/fresh-database.js";

// The start-event part of the store contract on its own, on each store (the full contract runs it too).
const pg = useFreshDatabase("eventloom_ui_start_events");

const stores: Record<string, () => Promise<{ store: Store; cleanup(): Promise<void> }>> = {
  memory: async () => ({ store: new MemoryStore(), cleanup: async () => {} }),
  "sqlite file": async () => {
    const dir = await mkdtemp(join(tmpdir(), "eventloom-ui-start-"));
    const store = new SqliteStore(join(dir, "s.db"));
    return {
      store,
      cleanup: async () => {
        await store.close();
        await rm(dir, { recursive: true, force: true });
      },
    };
  },
  postgres: async () => {
    const store = new PostgresStore({ connectionString: pg.url, max: 2 });
    return { store, cleanup: () => store.close() };
  },
};

for (const [name, open] of Object.entries(stores)) {
  describe(name, () => {
    let opened: { store: Store; cleanup(): Promise<void> };
    beforeEach(async () => {
      opened = await open();
      await opened.store.init();
    });
    afterEach(() => opened.cleanup());
    startEventsContract(() => opened.store);
  });
}
