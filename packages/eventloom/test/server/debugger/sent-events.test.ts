import { join } from "node:path";
import { defineEvent, InputRequiredEvent, StartEvent, StopEvent, Workflow } from "eventloom";
import { WorkflowClient } from "eventloom/client";
import { PostgresStore } from "eventloom/postgres";
import { MemoryStore, SqliteStore, type Store, WorkflowServer } from "eventloom/server";
import { afterAll, describe, expect, test } from "vitest";
import { z } from "zod";
import { useFreshDatabase } from "../../support/fresh-database.js";
import { tempDir } from "../helpers.js";

// Issue 15: what was sent into a run from outside (POST /events) is in its event log, as an internal
// EventReceived committed with the change it made, and stays there after the server starts again.

const Ask = defineEvent("Ask", z.object({ question: z.string() }), { extends: InputRequiredEvent });
const Answer = defineEvent("Answer", z.object({ text: z.string() }));
const asking = new Workflow({ name: "asking", timeout: null }).step(
  "ask",
  { accepts: [StartEvent], emits: [Ask, StopEvent], waitsFor: [Answer] },
  async (ctx) => {
    const answer = await ctx.waitForEvent(Answer, { waiterEvent: Ask.create({ question: "Why?" }) });
    return StopEvent.create({ result: answer.data.text });
  },
);

const pg = useFreshDatabase("eventloom_sent_events");
const dir = tempDir();
afterAll(() => dir.remove());
// A memory store is closed with its server: there it is read before the server closes.
const stores: Record<string, () => Store> = {
  memory: () => new MemoryStore(),
  sqlite: () => new SqliteStore(join(dir.dir, "sent.db")),
  postgres: () => new PostgresStore({ connectionString: pg.url, max: 2 }),
};

async function serve(store: Store) {
  const server = new WorkflowServer({ store, token: "" }).addWorkflow("asking", asking);
  const { url } = await server.serve({ host: "127.0.0.1", port: 0 });
  return { server, client: new WorkflowClient({ baseUrl: url }) };
}

for (const [name, open] of Object.entries(stores)) {
  describe(name, () => {
    test("an answer sent with POST /events is in the run's log with what was sent and when, after a restart too", async () => {
      const first = await serve(open());
      const { handlerId } = await first.client.runWorkflowNowait("asking");
      for await (const ev of first.client.getWorkflowEvents(handlerId)) if (ev.type === "Ask") break;
      const before = Date.now();
      await first.client.sendEvent(
        handlerId,
        { type: "Answer", value: { text: "because" } },
        { step: "ask" },
      );
      await first.client.getResult(handlerId);
      const restarted = name !== "memory";
      if (restarted) await first.server.close();

      const second = restarted ? await serve(open()) : first;
      try {
        const events = [];
        for await (const ev of second.client.getWorkflowEvents(handlerId, { includeInternal: true }))
          events.push(ev);
        const received = events.filter((e) => e.type === "EventReceived");
        expect(received.map((e) => e.value)).toEqual([
          { type: "Answer", qualified_name: "Answer", value: { text: "because" }, step: "ask" },
        ]);
        const at = Date.parse(received[0]!.timestamp ?? "");
        expect(at).toBeGreaterThanOrEqual(before - 1);
        // Before the step that took it ran again, and hidden from readers of the published events.
        const ran = events.filter((e) => e.type === "StepStateChanged" && e.value["state"] === "running");
        expect(received[0]!.sequence).toBeLessThan(ran.at(-1)!.sequence);
        const published = [];
        for await (const ev of second.client.getWorkflowEvents(handlerId)) published.push(ev.type);
        expect(published).toEqual(["Ask", "StopEvent"]);
      } finally {
        await second.server.close();
      }
    });
  });
}
