// RunFollower (what useWorkflowRun runs on) against the real server on 127.0.0.1 and the real
// client, in Node: a run followed to its end, a question answered, a run found again from the
// persisted handler id. The hooks themselves are tested in Chromium (hooks-in-chromium.test.ts).
import {
  defineEvent,
  HumanResponseEvent,
  InputRequiredEvent,
  StartEvent,
  StopEvent,
  Workflow,
} from "eventloom";
import { WorkflowClient } from "eventloom/client";
import { RunFollower, type RunSnapshot } from "eventloom/react";
import { MemoryStore, WorkflowServer } from "eventloom/server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { WordGate } from "../support/word-gate.js";

const TEXT = "one two three four five";
const gates = new Map<string, WordGate>();
const Ask = defineEvent("Ask", z.object({ question: z.string() }), { extends: InputRequiredEvent });
const Answer = defineEvent("Answer", z.object({ approved: z.boolean() }), { extends: HumanResponseEvent });
const Go = defineEvent("Go", z.object({ gate: z.string() }));
const Begin = defineEvent("Begin", z.object({ gate: z.string(), ask: z.boolean().default(false) }), {
  extends: StartEvent,
});

const asking = new Workflow({ name: "asking", timeout: null })
  .step("check", { accepts: [Begin], emits: [Go, StopEvent], waitsFor: [Answer] }, async (ctx, ev) => {
    if (!ev.data.ask) return Go.create({ gate: ev.data.gate });
    const answer = await ctx.waitForEvent(Answer, { waiterEvent: Ask.create({ question: "Go on?" }) });
    return answer.data.approved ? Go.create({ gate: ev.data.gate }) : StopEvent.create({ result: "stopped" });
  })
  .step("speak", { accepts: [Go], emits: [StopEvent] }, async (ctx, ev) => {
    const text = await ctx.streamText((gates.get(ev.data.gate) as WordGate).words(TEXT));
    return StopEvent.create({ result: text.length });
  });

let server: WorkflowServer;
let client: WorkflowClient;

beforeAll(async () => {
  server = new WorkflowServer({ store: new MemoryStore(), token: "" });
  server.addWorkflow("asking", asking);
  client = new WorkflowClient({ baseUrl: (await server.serve({ host: "127.0.0.1", port: 0 })).url });
});

afterAll(async () => {
  await server?.close();
});

/** Resolves once the follower's snapshot satisfies `check`. */
function until(follower: RunFollower, check: (s: RunSnapshot) => boolean): Promise<RunSnapshot> {
  return new Promise((resolve) => {
    const look = () => {
      if (!check(follower.snapshot)) return;
      off();
      resolve(follower.snapshot);
    };
    const off = follower.subscribe(look);
    look();
  });
}

function memoryStorage() {
  const items = new Map<string, string>();
  return {
    getItem: (k: string) => items.get(k) ?? null,
    setItem: (k: string, v: string) => void items.set(k, v),
    removeItem: (k: string) => void items.delete(k),
  };
}

function newGate(): { key: string; gate: WordGate } {
  const key = `g${gates.size}`;
  const gate = new WordGate();
  gates.set(key, gate);
  return { key, gate };
}

describe("RunFollower", () => {
  it("follows a run to its end: text, events, status and result", async () => {
    const { key, gate } = newGate();
    const follower = new RunFollower(client, "asking", { storage: null });
    await follower.start({ gate: key });
    gate.release(2);
    await until(follower, (s) => s.texts[0]?.text === "one two ");
    gate.release(Number.POSITIVE_INFINITY);
    const end = await until(follower, (s) => s.status === "completed");
    expect(end.texts).toEqual([expect.objectContaining({ text: TEXT, done: true })]);
    expect(end.result).toBe(TEXT.length);
    expect(end.events.map((e) => e.type)).toEqual(["TextEvent", "StopEvent"]);
    expect(end.connection).toBe("closed");
  });

  it("exposes the pending question and sends the answer", async () => {
    const { key, gate } = newGate();
    gate.release(Number.POSITIVE_INFINITY);
    const follower = new RunFollower(client, "asking", { storage: null, responseType: "Answer" });
    await follower.start({ gate: key, ask: true });
    const asked = await until(follower, (s) => s.pending !== null);
    expect(asked.pending?.value).toEqual({ question: "Go on?" });
    await follower.respond({ approved: true });
    const end = await until(follower, (s) => s.status === "completed");
    expect(end.pending).toBeNull();
    expect(end.texts[0]?.text).toBe(TEXT);
  });

  it("finds a run again from the persisted handler id, with its text so far, and goes on", async () => {
    const { key, gate } = newGate();
    const storage = memoryStorage();
    const first = new RunFollower(client, "asking", { storage, persistKey: "run" });
    const id = await first.start({ gate: key });
    gate.release(3);
    await until(first, (s) => s.texts[0]?.text === "one two three ");
    first.stop();
    const second = new RunFollower(client, "asking", { storage, persistKey: "run" });
    expect(second.persistedHandlerId).toBe(id);
    second.follow(id);
    await until(second, (s) => s.texts[0]?.text === "one two three ");
    gate.release(Number.POSITIVE_INFINITY);
    const end = await until(second, (s) => s.status === "completed");
    expect(end.texts.map((t) => t.text)).toEqual([TEXT]);
  });
});
