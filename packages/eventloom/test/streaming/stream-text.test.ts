// ctx.streamText against the real server on 127.0.0.1 and the real client: what is stored, what a
// reader connected now gets, what a reader that connects mid-stream or again gets.
import { defineEvent, StartEvent, StopEvent, Workflow } from "eventloom";
import {
  type EventEnvelope,
  isTextDelta,
  type RunStreamItem,
  TextStreams,
  WorkflowClient,
} from "eventloom/client";
import { MemoryStore, WorkflowServer } from "eventloom/server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { WordGate } from "../support/word-gate.js";

const TEXT = "the quick brown fox jumps over the lazy dog";
const gates = new Map<string, WordGate>();
const Thinking = defineEvent("Thinking", z.object({ about: z.string() }));

const StreamStart = defineEvent(
  "StreamStart",
  z.object({ gate: z.string(), durable: z.boolean().default(false) }),
  { extends: StartEvent },
);
const streaming = new Workflow({ name: "streaming", timeout: null }).step(
  "reply",
  { accepts: [StreamStart], emits: [StopEvent] },
  async (ctx, ev) => {
    ctx.writeEventToStream(Thinking.create({ about: "foxes" }));
    const gate = gates.get(ev.data.gate) as WordGate;
    const text = await ctx.streamText(gate.words(TEXT), { durable: ev.data.durable });
    return StopEvent.create({ result: text });
  },
);

let server: WorkflowServer;
let client: WorkflowClient;

beforeAll(async () => {
  server = new WorkflowServer({ store: new MemoryStore(), token: "" });
  server.addWorkflow("streaming", streaming);
  client = new WorkflowClient({ baseUrl: (await server.serve({ host: "127.0.0.1", port: 0 })).url });
});

afterAll(async () => {
  await server?.close();
});

async function start(durable = false): Promise<{ id: string; gate: WordGate }> {
  const gate = new WordGate();
  const key = `g${gates.size}`;
  gates.set(key, gate);
  const { handlerId } = await client.runWorkflowNowait("streaming", { startEvent: { gate: key, durable } });
  return { id: handlerId, gate };
}

/** Reads items until `stop` says so (or the stream ends); the connection closes on return. */
async function readUntil(
  stream: AsyncIterable<RunStreamItem>,
  into: RunStreamItem[],
  stop: (item: RunStreamItem) => boolean = () => false,
): Promise<void> {
  for await (const item of stream) {
    into.push(item);
    if (stop(item)) return;
  }
}

/** Reads `stream` in the background; `until` resolves once the items read satisfy a condition. */
function follow(stream: AsyncIterable<RunStreamItem>) {
  const items: RunStreamItem[] = [];
  let notify = () => {};
  const done = (async () => {
    for await (const item of stream) {
      items.push(item);
      notify();
    }
    notify();
  })();
  const until = async (check: (items: RunStreamItem[]) => boolean) => {
    while (!check(items)) await new Promise<void>((resolve) => (notify = resolve));
  };
  return { items, done, until };
}

const textOf = (items: RunStreamItem[]) => items.flatMap((i) => (isTextDelta(i) ? [i.delta] : [])).join("");
const typesOf = (items: RunStreamItem[]) => items.map((i) => (isTextDelta(i) ? "delta" : i.type));

describe("ctx.streamText", () => {
  it("streams each delta to a connected reader, after the events before it, and stores only the whole text", async () => {
    const { id, gate } = await start();
    const reader = follow(client.followRun(id));
    gate.release(1);
    await reader.until((items) => items.some(isTextDelta));
    gate.release(Number.POSITIVE_INFINITY);
    await reader.done;
    const { items } = reader;
    expect(textOf(items)).toBe(TEXT);
    expect(items.filter(isTextDelta).length).toBe(TEXT.split(" ").length);
    const types = typesOf(items);
    expect(types.indexOf("Thinking")).toBeLessThan(types.indexOf("delta"));
    expect(types.slice(-2)).toEqual(["TextEvent", "StopEvent"]);
    const stored: EventEnvelope[] = [];
    for await (const e of client.getWorkflowEvents(id)) stored.push(e);
    expect(stored.map((e) => e.type)).toEqual(["Thinking", "TextEvent", "StopEvent"]);
    expect(stored[1]?.value).toMatchObject({ text: TEXT });
  });

  it("gives a reader that connects mid-stream the text so far first, then the rest", async () => {
    const { id, gate } = await start();
    gate.release(3);
    const first: RunStreamItem[] = [];
    await readUntil(client.followRun(id), first, () => textOf(first) === "the quick brown ");
    const reader = follow(client.followRun(id));
    await reader.until((items) => items.some(isTextDelta));
    gate.release(Number.POSITIVE_INFINITY);
    await reader.done;
    const late = reader.items;
    const firstDelta = late.find(isTextDelta);
    expect(firstDelta).toMatchObject({ offset: 0 });
    expect(firstDelta?.delta).toBe("the quick brown ");
    expect(textOf(late)).toBe(TEXT);
  });

  it("lets a reader that reconnects from its last event put the text together without a gap or a repeat", async () => {
    const { id, gate } = await start();
    const texts = new TextStreams();
    const shown: string[] = [];
    let last = -1;
    const apply = (item: RunStreamItem) => {
      if (!isTextDelta(item)) last = item.sequence;
      const change = texts.apply(item);
      if (change) shown.push(change.delta);
    };
    gate.release(2);
    for await (const item of client.followRun(id)) {
      apply(item);
      if (texts.all[0]?.text === "the quick ") break;
    }
    gate.release(5);
    // The same reader again, from its cursor: the text so far comes again, and is not shown twice.
    const again = client.followRun(id, { afterSequence: last });
    for await (const item of again) {
      apply(item);
      if (texts.all[0]?.text === "the quick brown fox jumps ") break;
    }
    gate.release(Number.POSITIVE_INFINITY);
    for await (const item of client.followRun(id, { afterSequence: last })) apply(item);
    expect(shown.join("")).toBe(TEXT);
    expect(texts.all).toEqual([expect.objectContaining({ text: TEXT, done: true })]);
  });

  it("with durable: true, stores every delta, so that a reader after the end replays them", async () => {
    const { id, gate } = await start(true);
    gate.release(Number.POSITIVE_INFINITY);
    const stored: EventEnvelope[] = [];
    for await (const e of client.getWorkflowEvents(id)) stored.push(e);
    const deltas = stored.filter((e) => e.type === "TextDeltaEvent");
    expect(deltas.map((e) => e.value["delta"]).join("")).toBe(TEXT);
    expect(deltas.map((e) => e.value["offset"])[1]).toBe("the ".length);
    const texts = new TextStreams();
    for (const e of stored) texts.apply(e);
    expect(texts.all[0]).toMatchObject({ text: TEXT, done: true });
  });

  it("sends deltas as NDJSON lines without a sequence when asked for NDJSON", async () => {
    const { id, gate } = await start();
    const reader = follow(client.followRun(id, { sse: false }));
    gate.release(1);
    await reader.until((items) => items.some(isTextDelta));
    gate.release(Number.POSITIVE_INFINITY);
    await reader.done;
    const { items } = reader;
    expect(textOf(items)).toBe(TEXT);
    expect(items.flatMap((i) => (isTextDelta(i) ? [] : [i.type]))).toEqual([
      "Thinking",
      "TextEvent",
      "StopEvent",
    ]);
  });

  it("sends no deltas to readers that do not ask for them", async () => {
    const { id, gate } = await start();
    const events: EventEnvelope[] = [];
    const reading = (async () => {
      for await (const e of client.getWorkflowEvents(id)) events.push(e);
    })();
    gate.release(Number.POSITIVE_INFINITY);
    await reading;
    expect(events.map((e) => e.type)).toEqual(["Thinking", "TextEvent", "StopEvent"]);
  });
});
