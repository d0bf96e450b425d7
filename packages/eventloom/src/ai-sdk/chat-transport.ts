import type { ChatRequestOptions, ChatTransport, UIMessage, UIMessageChunk } from "ai";
import { isTextDelta } from "../client/event-stream.js";
import type { RawEvent } from "../client/types.js";
import type { WorkflowClient } from "../client/workflow-client.js";
import { RunChunks } from "./run-chunks.js";

/** Where the transport keeps each chat's current run (the Web Storage API's shape). */
export interface ChatStorage {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
}

/** A question the run asked, as the UI answered it. */
export interface AnsweredQuestion {
  /** The input-required event's type. */
  toolName: string;
  /** The input-required event's value. */
  input: unknown;
}

export interface WorkflowChatTransportOptions<M extends UIMessage> {
  // biome-ignore lint/suspicious/noExplicitAny: any client, whatever its workflow map
  client: WorkflowClient<any>;
  /** The workflow a chat turn runs. */
  workflow: string;
  /** The start event of a turn's run. Default `{ chat_id, messages }` (the UI messages as they are). */
  startEvent?: (messages: M[], chatId: string) => unknown;
  /**
   * The event that answers a question, from the output the UI gave with `addToolOutput`. Default a
   * `HumanResponseEvent` whose value is the output (an object), or `{ response: output }`.
   */
  answerEvent?: (question: AnsweredQuestion, output: unknown) => RawEvent;
  /** Default `globalThis.localStorage` when there is one, else memory. */
  storage?: ChatStorage;
  /** Events other than text, tools and questions as `data-<type>` parts. Default true. */
  dataParts?: boolean;
  /** Reconnections in a row without an event before a stream fails. Default 60 (minutes, at 5 s). */
  maxReconnects?: number;
}

/** What the transport keeps of a chat: its current run, the messages sent, the answers given. */
interface ChatTurn {
  handlerId: string;
  messages: UIMessage[];
  answers: Record<string, unknown>;
  /** The last stored event of the run that a stream of this turn delivered. */
  cursor: number;
}

function memoryStorage(): ChatStorage {
  const items = new Map<string, string>();
  return {
    getItem: (key) => items.get(key) ?? null,
    setItem: (key, value) => void items.set(key, value),
    removeItem: (key) => void items.delete(key),
  };
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

/**
 * An AI SDK `ChatTransport` that runs a workflow per chat turn and streams its run into `useChat`:
 * the text its steps stream (`ctx.streamText`), its tool steps (ToolCallEvent/ToolResultEvent) and
 * its questions (input-required events, answered from the UI with `addToolOutput`). It keeps the
 * chat's run in `storage`, so that after a reload `useChat({ messages: transport.messagesOf(id),
 * resume: true })` replays the run from its stored events and goes on live: no text lost or doubled.
 *
 * @example
 * const transport = new WorkflowChatTransport({ client, workflow: "chat" });
 * const chat = useChat({
 *   id: "main", transport, messages: transport.messagesOf("main"), resume: true,
 *   sendAutomaticallyWhen: lastAssistantMessageIsCompleteWithToolCalls,
 * });
 */
export class WorkflowChatTransport<M extends UIMessage = UIMessage> implements ChatTransport<M> {
  /** A reconnection replays the run's whole message: the SDK resets it on the first `start`. */
  readonly resumeStreamIsReplay = true;
  readonly #o: WorkflowChatTransportOptions<M>;
  readonly #storage: ChatStorage;

  constructor(options: WorkflowChatTransportOptions<M>) {
    this.#o = options;
    this.#storage =
      options.storage ?? (globalThis as { localStorage?: ChatStorage }).localStorage ?? memoryStorage();
  }

  /** The chat's messages as last sent (give them to `useChat` after a reload), or none. */
  messagesOf(chatId: string): M[] {
    return (this.#load(chatId)?.messages ?? []) as M[];
  }

  /** The handler id of the chat's current run, if any. */
  handlerIdOf(chatId: string): string | null {
    return this.#load(chatId)?.handlerId ?? null;
  }

  /** Forgets the chat's run (a new chat). */
  forget(chatId: string): void {
    this.#storage.removeItem(this.#key(chatId));
  }

  async sendMessages(
    options: {
      trigger: "submit-message" | "regenerate-message";
      chatId: string;
      messageId: string | undefined;
      messages: M[];
      abortSignal: AbortSignal | undefined;
    } & ChatRequestOptions,
  ): Promise<ReadableStream<UIMessageChunk>> {
    const { chatId, messages, abortSignal } = options;
    const turn = this.#load(chatId);
    const last = messages[messages.length - 1];
    const answers = turn && last?.role === "assistant" ? this.#newAnswers(turn, last) : [];
    if (turn && last?.role === "assistant" && answers.length === 0) {
      // sent again with nothing new for the run (an automatic resend): nothing to stream
      return finished(last.id);
    }
    if (turn && last && answers.length > 0) {
      // the UI answered the run's question: send it, and go on with the same message
      for (const a of answers) {
        await this.#o.client.sendEvent(turn.handlerId, this.#answerEvent(a.question, a.output), {
          ...(abortSignal ? { signal: abortSignal } : {}),
        });
        turn.answers[a.toolCallId] = a.output;
      }
      turn.messages = messages;
      this.#save(chatId, turn);
      return this.#stream(chatId, turn, turn.cursor, last.id, abortSignal, true);
    }
    const startEvent = this.#o.startEvent?.(messages, chatId) ?? { chat_id: chatId, messages };
    const { handlerId } = await this.#o.client.runWorkflowNowait(this.#o.workflow, {
      startEvent: startEvent as never,
      ...(abortSignal ? { signal: abortSignal } : {}),
    });
    const next: ChatTurn = { handlerId, messages, answers: {}, cursor: -1 };
    this.#save(chatId, next);
    return this.#stream(chatId, next, -1, messageIdOf(handlerId), abortSignal);
  }

  async reconnectToStream(
    options: { chatId: string; abortSignal?: AbortSignal } & ChatRequestOptions,
  ): Promise<ReadableStream<UIMessageChunk> | null> {
    const turn = this.#load(options.chatId);
    if (!turn) return null;
    return this.#stream(options.chatId, turn, -1, messageIdOf(turn.handlerId), options.abortSignal);
  }

  #stream(
    chatId: string,
    turn: ChatTurn,
    after: number,
    messageId: string,
    signal: AbortSignal | undefined,
    answered = false,
  ): ReadableStream<UIMessageChunk> {
    const abort = new AbortController();
    signal?.addEventListener("abort", () => abort.abort(signal.reason), { once: true });
    const items = this.#o.client.followRun(turn.handlerId, {
      afterSequence: after,
      includeInternal: true,
      signal: abort.signal,
      maxReconnects: this.#o.maxReconnects ?? 60,
    });
    const chunks = new RunChunks(turn.handlerId, {
      ...(this.#o.dataParts === undefined ? {} : { dataParts: this.#o.dataParts }),
      answerOf: (id) => turn.answers[id],
    });
    let started = false;
    const finish = () => {
      abort.abort();
      void items.return(undefined);
    };
    return new ReadableStream<UIMessageChunk>({
      pull: async (controller) => {
        if (!started) {
          started = true;
          controller.enqueue({ type: "start", messageId });
          // after an answer, what follows is a new step of the same message
          if (answered) controller.enqueue({ type: "start-step" });
          return;
        }
        for (;;) {
          let next: IteratorResult<Parameters<RunChunks["push"]>[0]>;
          try {
            next = await items.next();
          } catch (error) {
            controller.error(error);
            return;
          }
          if (next.done) {
            controller.close();
            return;
          }
          const { chunks: out, end } = chunks.push(next.value);
          if (!isTextDelta(next.value) && next.value.sequence > turn.cursor)
            turn.cursor = next.value.sequence;
          for (const chunk of out) controller.enqueue(chunk);
          if (end) {
            this.#save(chatId, turn);
            controller.close();
            finish();
            return;
          }
          if (out.length > 0) return;
        }
      },
      cancel: finish,
    });
  }

  // Questions of this run that the last message answers and the run has not been sent yet.
  #newAnswers(turn: ChatTurn, message: UIMessage) {
    const found: { toolCallId: string; question: AnsweredQuestion; output: unknown }[] = [];
    for (const part of message.parts) {
      if (part.type !== "dynamic-tool" || part.state !== "output-available") continue;
      if (!part.toolCallId.startsWith(`${turn.handlerId}:q`) || part.toolCallId in turn.answers) continue;
      found.push({
        toolCallId: part.toolCallId,
        question: { toolName: part.toolName, input: part.input },
        output: part.output,
      });
    }
    return found;
  }

  #answerEvent(question: AnsweredQuestion, output: unknown): RawEvent {
    if (this.#o.answerEvent) return this.#o.answerEvent(question, output);
    return { type: "HumanResponseEvent", value: isObject(output) ? output : { response: output } };
  }

  #key(chatId: string): string {
    return `eventloom-chat:${chatId}`;
  }

  #load(chatId: string): ChatTurn | null {
    const text = this.#storage.getItem(this.#key(chatId));
    if (!text) return null;
    try {
      return JSON.parse(text) as ChatTurn;
    } catch {
      return null;
    }
  }

  #save(chatId: string, turn: ChatTurn): void {
    this.#storage.setItem(this.#key(chatId), JSON.stringify(turn));
  }
}

/** A stream that only starts and finishes `messageId`. */
function finished(messageId: string): ReadableStream<UIMessageChunk> {
  return new ReadableStream({
    start(controller) {
      controller.enqueue({ type: "start", messageId });
      controller.enqueue({ type: "finish" });
      controller.close();
    },
  });
}

/** The assistant message of a run: one per run, the same id every time it is replayed. */
const messageIdOf = (handlerId: string): string => `run-${handlerId}`;
