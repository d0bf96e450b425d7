// WorkflowChatTransport against the real server on 127.0.0.1, with the chat example's workflow on
// its fake model, read by the `ai` package's own readUIMessageStream (in Node; in Chromium with
// useChat: chat-in-chromium.test.ts).
import { readUIMessageStream, type UIMessage, type UIMessageChunk } from "ai";
import { WorkflowChatTransport } from "eventloom/ai-sdk";
import { WorkflowClient } from "eventloom/client";
import { MemoryStore, WorkflowServer } from "eventloom/server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WordGate } from "../../packages/eventloom/test/support/word-gate.js";
import { chatWorkflow } from "./chat-workflow.js";
import { defaultReply, fakeModel } from "./fake-model.js";

let gate = new WordGate();
let server: WorkflowServer;
let client: WorkflowClient;

beforeAll(async () => {
  server = new WorkflowServer({ store: new MemoryStore(), token: "" });
  server.addWorkflow("chat", chatWorkflow(fakeModel({ pace: (i) => gate.pass(i) })));
  client = new WorkflowClient({ baseUrl: (await server.serve({ host: "127.0.0.1", port: 0 })).url });
});

afterAll(async () => {
  await server?.close();
});

const user = (text: string, id = "u1"): UIMessage => ({ id, role: "user", parts: [{ type: "text", text }] });

function transport() {
  return new WorkflowChatTransport({
    client,
    workflow: "chat",
    storage: memory(),
    answerEvent: (_q, output) => ({ type: "BookingAnswer", value: output as Record<string, unknown> }),
  });
}

function memory() {
  const items = new Map<string, string>();
  return {
    getItem: (k: string) => items.get(k) ?? null,
    setItem: (k: string, v: string) => void items.set(k, v),
    removeItem: (k: string) => void items.delete(k),
  };
}

/** The assistant message as the AI SDK builds it from the stream, once the stream ends. */
async function lastMessage(stream: ReadableStream<UIMessageChunk>, message?: UIMessage): Promise<UIMessage> {
  let last: UIMessage | undefined;
  for await (const m of readUIMessageStream({ stream, ...(message ? { message } : {}) })) last = m;
  return last as UIMessage;
}

const textOf = (m: UIMessage) => m.parts.flatMap((p) => (p.type === "text" ? [p.text] : [])).join("");
const send = (t: WorkflowChatTransport, messages: UIMessage[]) =>
  t.sendMessages({
    trigger: "submit-message",
    chatId: "c",
    messageId: undefined,
    messages,
    abortSignal: undefined,
  });

describe("WorkflowChatTransport", () => {
  it("streams a turn's text into one assistant message", async () => {
    gate = new WordGate();
    gate.release(Number.POSITIVE_INFINITY);
    const message = await lastMessage(await send(transport(), [user("hello")]));
    expect(message.role).toBe("assistant");
    expect(textOf(message)).toBe(defaultReply("hello"));
  });

  it("shows a tool step as a tool part with its output", async () => {
    gate = new WordGate();
    gate.release(Number.POSITIVE_INFINITY);
    const message = await lastMessage(await send(transport(), [user("what is the weather in Paris")]));
    const tool = message.parts.find((p) => p.type === "dynamic-tool");
    expect(tool).toMatchObject({
      toolName: "get_weather",
      state: "output-available",
      input: { city: "Paris" },
      output: { city: "Paris", forecast: "light rain, 14°C" },
    });
    expect(textOf(message)).toContain("weather in Paris");
  });

  it("ends the stream at a question, and goes on in the same message once the UI answers it", async () => {
    gate = new WordGate();
    gate.release(Number.POSITIVE_INFINITY);
    const t = transport();
    const asked = await lastMessage(await send(t, [user("book a table")]));
    const question = asked.parts.find((p) => p.type === "dynamic-tool");
    expect(question).toMatchObject({ toolName: "ConfirmBooking", state: "input-available" });
    // what addToolOutput does to the message, then useChat sends the messages again
    const answered: UIMessage = {
      ...asked,
      parts: asked.parts.map((p) =>
        p.type === "dynamic-tool"
          ? ({ ...p, state: "output-available", output: { approved: true } } as never)
          : p,
      ),
    };
    const done = await lastMessage(await send(t, [user("book a table"), answered]), answered);
    expect(done.id).toBe(asked.id);
    expect(textOf(done)).toBe(defaultReply("book a table (booking approved)"));
    // after a reload: the replay shows the question answered (the transport kept the answer) and the text
    const replay = await lastMessage(
      (await t.reconnectToStream({ chatId: "c" })) as ReadableStream<UIMessageChunk>,
    );
    expect(replay.parts.find((p) => p.type === "dynamic-tool")).toMatchObject({ state: "output-available" });
    expect(textOf(replay)).toBe(textOf(done));
  });

  it("replays a turn from the start on reconnect, then follows it live, without losing or doubling text", async () => {
    gate = new WordGate();
    gate.release(4);
    const t = transport();
    const first = (await send(t, [user("hello again")])).getReader();
    let seen = "";
    while (seen.split(" ").length < 5) {
      const { value } = await first.read();
      if (value?.type === "text-delta") seen += value.delta;
    }
    await first.cancel();
    expect(t.messagesOf("c")).toEqual([user("hello again")]);
    const again = (await t.reconnectToStream({ chatId: "c" })) as ReadableStream<UIMessageChunk>;
    const reading = lastMessage(again);
    gate.release(Number.POSITIVE_INFINITY);
    expect(textOf(await reading)).toBe(defaultReply("hello again"));
  });
});
