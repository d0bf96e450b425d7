import type { UIMessageChunk } from "ai";
import { isTextDelta, type RunStreamItem } from "../client/event-stream.js";
import { type TextChange, TextStreams } from "../client/text-streams.js";
import { BUILTIN_EVENT_NAMES } from "../core/builtin-names.js";
import { TOOL_EVENT_NAMES } from "../core/text-names.js";
import type { EventEnvelope } from "../protocol/codec.js";

/** Why a run's chunks end a UI message stream: the run ended, or it waits for a person's answer. */
export type ChunksEnd = "finish" | "question" | null;

export interface RunChunksOptions {
  /**
   * Send the events that are not text, tools or questions as data parts (`data-<type>`, the event's
   * value as `data`). Default true.
   */
  dataParts?: boolean;
  /** The answer already given to a question (its tool call id), when the transport knows it. */
  answerOf?: (toolCallId: string) => unknown;
}

const { inputRequired, stop, failed, cancelled, stepState, idle } = BUILTIN_EVENT_NAMES;
const nameOf = (e: EventEnvelope) => e.qualifiedName ?? e.type;

/** The tool call id of a question: its handler and its sequence, so that it names one event. */
export const questionId = (handlerId: string, sequence: number): string => `${handlerId}:q${sequence}`;

/**
 * Turns what `followRun` yields for one run (its events and text deltas) into the AI SDK's UI
 * message chunks: streamed text as text parts, ToolCallEvent/ToolResultEvent as (server-executed)
 * tool parts, an input-required event as a tool call the UI answers with `addToolOutput`, the end as
 * `finish` (after an `error` when the run failed), other events as data parts.
 */
export class RunChunks {
  readonly #handlerId: string;
  readonly #o: RunChunksOptions;
  readonly #texts = new TextStreams();
  readonly #openParts = new Map<string, string>();
  #running: unknown = null;
  #question: { toolCallId: string; askedBy: unknown } | null = null;

  constructor(handlerId: string, options: RunChunksOptions = {}) {
    this.#handlerId = handlerId;
    this.#o = options;
  }

  /** The chunks for one item, and whether the message stream ends after them. */
  push(item: RunStreamItem): { chunks: UIMessageChunk[]; end: ChunksEnd } {
    const chunks: UIMessageChunk[] = [];
    const change = this.#texts.apply(item);
    if (change) this.#text(change, chunks);
    if (isTextDelta(item)) return { chunks, end: null };
    const name = nameOf(item);
    const v = item.value;
    if (name === stepState) {
      if (v["state"] !== "running") return { chunks, end: null };
      this.#running = v["step"];
      const q = this.#question;
      // the step that asked runs again: the question was answered
      if (q && q.askedBy === this.#running) {
        chunks.push(...this.#answer(q.toolCallId, this.#o.answerOf?.(q.toolCallId)));
        this.#question = null;
      }
      return { chunks, end: null };
    }
    if (name === idle) {
      if (!this.#question) return { chunks, end: null };
      // the run waits for the answer: this message is done until the UI sends it
      this.#closeTexts(chunks);
      chunks.push({ type: "finish" });
      return { chunks, end: "question" };
    }
    if (item.types.includes(stop)) {
      this.#closeTexts(chunks);
      if (name === failed) {
        const error = v["error"] as { message?: unknown } | undefined;
        chunks.push({ type: "error", errorText: String(error?.message ?? "The workflow failed") });
      }
      chunks.push(name === cancelled ? { type: "abort", reason: "cancelled" } : { type: "finish" });
      return { chunks, end: "finish" };
    }
    if (name === TOOL_EVENT_NAMES.call) {
      chunks.push({
        type: "tool-input-available",
        toolCallId: String(v["tool_call_id"]),
        toolName: String(v["tool_name"]),
        input: v["input"],
        providerExecuted: true,
        dynamic: true,
      });
    } else if (name === TOOL_EVENT_NAMES.result) {
      const toolCallId = String(v["tool_call_id"]);
      chunks.push(
        typeof v["error"] === "string"
          ? {
              type: "tool-output-error",
              toolCallId,
              errorText: v["error"],
              providerExecuted: true,
              dynamic: true,
            }
          : {
              type: "tool-output-available",
              toolCallId,
              output: v["output"],
              providerExecuted: true,
              dynamic: true,
            },
      );
    } else if (item.types.includes(inputRequired)) {
      const toolCallId = questionId(this.#handlerId, item.sequence);
      chunks.push({ type: "tool-input-available", toolCallId, toolName: item.type, input: v, dynamic: true });
      const answer = this.#o.answerOf?.(toolCallId);
      if (answer !== undefined) chunks.push(...this.#answer(toolCallId, answer));
      else this.#question = { toolCallId, askedBy: this.#running };
    } else if (!change && (this.#o.dataParts ?? true)) {
      chunks.push({ type: `data-${item.type}`, id: String(item.sequence), data: v });
    }
    return { chunks, end: null };
  }

  // The answer, then a new step: the AI SDK sends a message again by itself only while its last
  // step has tool calls that all have outputs (lastAssistantMessageIsCompleteWithToolCalls).
  #answer(toolCallId: string, output: unknown): UIMessageChunk[] {
    return [
      { type: "tool-output-available", toolCallId, output: output ?? { answered: true }, dynamic: true },
      { type: "start-step" },
    ];
  }

  #text(change: TextChange, chunks: UIMessageChunk[]): void {
    const open = this.#openParts.get(change.id);
    if (change.kind !== "append" || open === undefined) {
      // a stream started again: its old part ends where it was, the new attempt is a new part
      if (open !== undefined) chunks.push({ type: "text-end", id: open });
      const part = `${change.id}:${change.attempt}`;
      this.#openParts.set(change.id, part);
      chunks.push({ type: "text-start", id: part });
    }
    const part = this.#openParts.get(change.id) as string;
    if (change.delta) chunks.push({ type: "text-delta", id: part, delta: change.delta });
    if (change.done) {
      chunks.push({ type: "text-end", id: part });
      this.#openParts.delete(change.id);
    }
  }

  #closeTexts(chunks: UIMessageChunk[]): void {
    for (const part of this.#openParts.values()) chunks.push({ type: "text-end", id: part });
    this.#openParts.clear();
  }
}
