import { afterEach, beforeEach, describe } from "vitest";
import type { Store } from "../../stores/store.js";
import { commitContract } from "./commit.js";
import { eventsAndInboxContract } from "./events-and-inbox.js";
import type { OpenStore } from "./fixtures.js";
import { idempotencyContract } from "./idempotency.js";
import { lifecycleContract } from "./lifecycle.js";
import { limitsContract } from "./limits.js";
import { propertiesContract } from "./properties.js";
import { readinessContract } from "./readiness.js";
import { readsContract } from "./reads.js";
import { runQueueContract } from "./run-queue.js";
import { schedulesContract } from "./schedules.js";
import { startEventsContract } from "./start-events.js";
import { timeContract } from "./time.js";

export { handlerRecord, inboxItem, type OpenStore, publishedEvent, runState } from "./fixtures.js";
export { keyRecord } from "./idempotency.js";
export { startEventsContract } from "./start-events.js";

/**
 * The behaviour every {@link Store} must have, as a vitest suite. Each store's test file runs it, a
 * store of your own too: `open` gives a fresh, initialised store for each test.
 *
 * @example
 * import { runStoreContract } from "eventloom/testing";
 * import { MemoryStore } from "eventloom/server";
 *
 * runStoreContract("memory", async () => ({ store: new MemoryStore(), cleanup: async () => {} }));
 */
export function runStoreContract(name: string, open: OpenStore): void {
  describe(`${name} store contract`, () => {
    let store: Store;
    let cleanup: () => Promise<void>;

    beforeEach(async () => {
      ({ store, cleanup } = await open());
    });

    afterEach(async () => {
      await cleanup();
    });

    const current = () => store;
    commitContract(current);
    readsContract(current);
    eventsAndInboxContract(current);
    lifecycleContract(current);
    propertiesContract(current);
    readinessContract(current);
    limitsContract(current);
    idempotencyContract(current);
    startEventsContract(current);
    timeContract(current);
    schedulesContract(current);
    runQueueContract(current);
  });
}
