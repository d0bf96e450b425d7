// The bench's page (bundled with esbuild): reads N tokens three ways and says how long each took.
import type { UIMessageChunk } from "ai";
import { WorkflowChatTransport } from "../../packages/eventloom/src/ai-sdk/index.js";
import { WorkflowClient } from "../../packages/eventloom/src/client/index.js";

export interface Timing {
  ms: number;
  chars: number;
}

function memory() {
  const items = new Map<string, string>();
  return {
    getItem: (k: string) => items.get(k) ?? null,
    setItem: (k: string, v: string) => void items.set(k, v),
    removeItem: (k: string) => void items.delete(k),
  };
}

/** Plain SSE from node:http, read with EventSource: one `data:` frame per token, then `done`. */
function sse(url: string): Promise<Timing> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    let chars = 0;
    const source = new EventSource(url);
    source.onmessage = (e) => {
      chars += (e.data as string).length;
    };
    source.addEventListener("done", () => {
      source.close();
      resolve({ ms: performance.now() - t0, chars });
    });
    source.onerror = () => reject(new Error("the SSE stream failed"));
  });
}

/** The server's own SSE stream of a run (GET /events/{id}?include_deltas=true), read with EventSource. */
/** Tells the bench the page reads the run: its step starts streaming. */
const letGo = (key: string) => void fetch(`/go?key=${key}`);

async function events(api: string, tokens: number): Promise<Timing> {
  const key = crypto.randomUUID();
  const started = await fetch(new URL("workflows/tokens/run-nowait", api), {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ start_event: { tokens, durable: false, key } }),
  });
  const { handler_id } = (await started.json()) as { handler_id: string };
  return new Promise((resolve, reject) => {
    let chars = 0;
    let t0 = 0;
    const source = new EventSource(new URL(`events/${handler_id}?include_deltas=true`, api));
    source.addEventListener("delta", (e) => {
      chars += (JSON.parse((e as MessageEvent).data as string) as { delta: string }).delta.length;
    });
    source.onmessage = (e) => {
      if (t0 === 0 && (e.data as string).includes('"Ready"')) {
        t0 = performance.now();
        letGo(key);
      }
      if ((e.data as string).includes('"StopEvent"')) {
        source.close();
        resolve({ ms: performance.now() - t0, chars });
      }
    };
    source.onerror = () => reject(new Error("the event stream failed"));
  });
}

/** A workflow's tokens through WorkflowChatTransport: the UI message chunks useChat would get. */
async function adapter(api: string, tokens: number, durable: boolean): Promise<Timing> {
  const key = crypto.randomUUID();
  const client = new WorkflowClient({ baseUrl: api });
  const transport = new WorkflowChatTransport({
    client,
    workflow: "tokens",
    storage: memory(),
    startEvent: () => ({ tokens, durable, key }),
  });
  const stream = await transport.sendMessages({
    trigger: "submit-message",
    chatId: "bench",
    messageId: undefined,
    messages: [{ id: "u", role: "user", parts: [{ type: "text", text: "go" }] }],
    abortSignal: undefined,
  });
  const reader = stream.getReader();
  let chars = 0;
  let t0 = 0;
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    const chunk = value as UIMessageChunk;
    if (chunk.type === "text-delta") chars += chunk.delta.length;
    if (t0 === 0 && chunk.type === "data-Ready") {
      t0 = performance.now();
      letGo(key);
    }
  }
  return { ms: performance.now() - t0, chars };
}

declare global {
  interface Window {
    bench: { sse: typeof sse; events: typeof events; adapter: typeof adapter };
  }
}
window.bench = { sse, events, adapter };
