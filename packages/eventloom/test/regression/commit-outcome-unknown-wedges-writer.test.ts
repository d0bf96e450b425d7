// Regression: a commit that landed in the store but reported an error to the server (a connection
// lost after COMMIT, a timeout after the write) wedged the CommitWriter. It put the batch's events
// back and wrote them again; the store refused their sequences (SequenceConflictError) on every
// retry, and since every later batch carried them too, no handler's changes were ever written again.
//
// Fixed in src/server/commit-writer.ts: before a retry, the events the store already holds
// (sequence <= store.lastSequence) are dropped from the pending batch.

import { StartEvent } from "eventloom";
import { MemoryStore, WorkflowServer } from "eventloom/server";
import { describe, expect, it } from "vitest";
import { human } from "../server/fixtures.js";
import { FaultyStore } from "../support/faulty-store.js";

describe("regression: a commit of unknown outcome", () => {
  it("does not stop the server from writing anything afterwards", async () => {
    const store = new FaultyStore(new MemoryStore());
    const server = new WorkflowServer({ store, idleReleaseMs: Number.POSITIVE_INFINITY });
    server.addWorkflow("human", human);
    const post = (path: string, body: unknown) =>
      server.fetch(
        new Request(`http://localhost${path}`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify(body),
        }),
      );
    try {
      expect((await post("/workflows/human/run-nowait", { handler_id: "first" })).status).toBe(200);
      // The next commit lands, and then reports an error.
      store.plan({ at: { commit: [store.calls.commit + 1] }, timing: "after" });
      expect((await post("/workflows/human/run-nowait", { handler_id: "landed" })).status).toBe(500);
      expect(await store.inner.getHandler("landed")).not.toBeNull();
      // The store works again: a new handler must be written.
      const next = await post("/workflows/human/run-nowait", {
        handler_id: "next",
        start_event: StartEvent.create({}),
      });
      expect(next.status).toBe(200);
      expect(await store.inner.getHandler("next")).not.toBeNull();
    } finally {
      await server.close();
    }
  });
});
