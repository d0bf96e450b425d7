// RunChunks: a run's events and deltas as the AI SDK's UI message chunks, checked with the ai
// package's own readUIMessageStream (what useChat builds messages with). The transport against a
// real server: examples/chat/chat-transport.test.ts and chat-in-chromium.test.ts.
import { readUIMessageStream, type UIMessage, type UIMessageChunk } from "ai";
import { RunChunks } from "eventloom/ai-sdk";
import type { EventEnvelope, RunStreamItem } from "eventloom/client";
import { describe, expect, it } from "vitest";

const E = "workflows.events.Event";
const envelope = (sequence: number, type: string, value: Record<string, unknown>, types: string[] = []) =>
  ({ sequence, type, qualifiedName: type, types: [E, ...types, type], value }) as EventEnvelope;
const delta = (id: string, attempt: string, offset: number, text: string): RunStreamItem => ({
  kind: "delta",
  id,
  attempt,
  offset,
  delta: text,
});
const stop = (sequence: number) => envelope(sequence, "workflows.events.StopEvent", { result: null }, []);

async function messageOf(items: RunStreamItem[]): Promise<{ message: UIMessage; chunks: UIMessageChunk[] }> {
  const run = new RunChunks("h1");
  const chunks: UIMessageChunk[] = [{ type: "start", messageId: "m" }];
  for (const item of items) {
    const out = run.push(item);
    chunks.push(...out.chunks);
    if (out.end) break;
  }
  const stream = new ReadableStream<UIMessageChunk>({
    start(controller) {
      for (const c of chunks) controller.enqueue(c);
      controller.close();
    },
  });
  let message: UIMessage | undefined;
  for await (const m of readUIMessageStream({ stream })) message = m;
  return { message: message as UIMessage, chunks };
}

const texts = (m: UIMessage) => m.parts.flatMap((p) => (p.type === "text" ? [p.text] : []));

describe("RunChunks", () => {
  it("applies each piece of text once, the text so far given again on a reconnection included", async () => {
    const { message } = await messageOf([
      delta("s", "a1", 0, "Hello "),
      delta("s", "a1", 6, "wor"),
      delta("s", "a1", 0, "Hello wor"), // a reconnection's text so far
      delta("s", "a1", 9, "ld"),
      envelope(3, "eventloom.TextEvent", { id: "s", attempt: "a1", text: "Hello world" }),
      stop(4),
    ]);
    expect(texts(message)).toEqual(["Hello world"]);
  });

  it("ends a stream's part where it was when the stream starts again (a crash), and goes on in a new part", async () => {
    const { message, chunks } = await messageOf([
      delta("s", "a1", 0, "Hel"),
      delta("s", "a2", 0, "Hello"),
      envelope(3, "eventloom.TextEvent", { id: "s", attempt: "a2", text: "Hello there" }),
      stop(4),
    ]);
    expect(texts(message)).toEqual(["Hel", "Hello there"]);
    expect(chunks.filter((c) => c.type === "text-end")).toHaveLength(2);
  });

  it("gives a replay that has only the stored text the whole text as one part", async () => {
    const { message } = await messageOf([
      envelope(2, "eventloom.TextEvent", { id: "s", attempt: "a1", text: "Stored" }),
      stop(3),
    ]);
    expect(texts(message)).toEqual(["Stored"]);
  });

  it("reports a failed run as an error after its text", async () => {
    const { chunks } = await messageOf([
      delta("s", "a1", 0, "Half"),
      envelope(5, "workflows.events.WorkflowFailedEvent", { error: { name: "Error", message: "boom" } }, [
        "workflows.events.StopEvent",
      ]),
    ]);
    expect(chunks.slice(-3)).toEqual([
      { type: "text-end", id: "s:a1" },
      { type: "error", errorText: "boom" },
      { type: "finish" },
    ]);
  });

  it("sends other events as data parts", async () => {
    const { message } = await messageOf([envelope(1, "Progress", { percent: 50 }), stop(2)]);
    expect(message.parts).toContainEqual(
      expect.objectContaining({ type: "data-Progress", data: { percent: 50 } }),
    );
  });
});
