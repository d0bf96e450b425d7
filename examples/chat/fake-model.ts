// A language model that needs no network and no key: it answers with canned words, one delta per
// word, behind the AI SDK's LanguageModelV3 interface, the one every real provider implements. Swap
// it for `openai("gpt-4o-mini")` (or any provider's model) and nothing else changes.
import type {
  LanguageModelV3,
  LanguageModelV3CallOptions,
  LanguageModelV3Prompt,
  LanguageModelV3StreamPart,
  LanguageModelV3Usage,
} from "@ai-sdk/provider";

export interface FakeModelOptions {
  /** The answer to a prompt; default: a sentence that quotes the last user message. */
  reply?: (lastUserText: string) => string;
  /** Waits before word `index` comes out (a test's gate, or a pause that looks like a model). */
  pace?: (index: number, signal: AbortSignal | undefined) => Promise<void>;
}

const usage = (words: number): LanguageModelV3Usage => ({
  inputTokens: { total: 0, noCache: 0, cacheRead: 0, cacheWrite: 0 },
  outputTokens: { total: words, text: words, reasoning: 0 },
});

/** The text of the prompt's last user message. */
export function lastUserText(prompt: LanguageModelV3Prompt): string {
  for (let i = prompt.length - 1; i >= 0; i--) {
    const message = prompt[i];
    if (message?.role !== "user") continue;
    return message.content.flatMap((part) => (part.type === "text" ? [part.text] : [])).join(" ");
  }
  return "";
}

export const defaultReply = (text: string): string =>
  `You said "${text}". Here is a fake answer, streamed one word at a time, the way a real model streams its tokens.`;

/** The words of `text`, each with its following space, as a model's deltas would come. */
export const wordsOf = (text: string): string[] => text.match(/\S+\s*/g) ?? [];

/** A fake LanguageModelV3: streams the reply word by word (and answers doGenerate at once). */
export function fakeModel(options: FakeModelOptions = {}): LanguageModelV3 {
  const reply = options.reply ?? defaultReply;
  return {
    specificationVersion: "v3",
    provider: "fake",
    modelId: "fake-words",
    supportedUrls: {},
    async doGenerate(call: LanguageModelV3CallOptions) {
      const text = reply(lastUserText(call.prompt));
      return {
        content: [{ type: "text", text }],
        finishReason: { unified: "stop", raw: "stop" },
        usage: usage(wordsOf(text).length),
        warnings: [],
      };
    },
    async doStream(call: LanguageModelV3CallOptions) {
      const words = wordsOf(reply(lastUserText(call.prompt)));
      let index = 0;
      const stream = new ReadableStream<LanguageModelV3StreamPart>({
        start(controller) {
          controller.enqueue({ type: "stream-start", warnings: [] });
          controller.enqueue({ type: "text-start", id: "t0" });
        },
        async pull(controller) {
          if (index >= words.length) {
            controller.enqueue({ type: "text-end", id: "t0" });
            controller.enqueue({
              type: "finish",
              finishReason: { unified: "stop", raw: "stop" },
              usage: usage(index),
            });
            controller.close();
            return;
          }
          await options.pace?.(index, call.abortSignal);
          if (call.abortSignal?.aborted) {
            controller.error(call.abortSignal.reason);
            return;
          }
          controller.enqueue({ type: "text-delta", id: "t0", delta: words[index] as string });
          index++;
        },
      });
      return { stream };
    },
  };
}

/** A pace that looks like a model: `ms` per word. */
export const steadyPace =
  (ms: number) =>
  (_index: number, signal: AbortSignal | undefined): Promise<void> =>
    new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      signal?.addEventListener("abort", () => {
        clearTimeout(timer);
        resolve();
      });
    });
