import { TEXT_EVENT_NAMES } from "../core/text-names.js";
import type { EventEnvelope } from "../protocol/codec.js";
import { isTextDelta, type RunStreamItem } from "./event-stream.js";

/** One stream of text as a reader has it so far. */
export interface StreamedText {
  id: string;
  attempt: string;
  text: string;
  /** True once the stream's TextEvent (its whole text, stored) arrived. */
  done: boolean;
}

/**
 * What an item changed in a stream's text. `start`: a stream seen for the first time; `restart`: the
 * same stream started again (a new attempt, after a crash or a retry), whose text replaces the old;
 * `append`: `delta` was added. `text` is the whole text now.
 */
export interface TextChange {
  kind: "start" | "restart" | "append";
  id: string;
  attempt: string;
  delta: string;
  text: string;
  done: boolean;
}

const nameOf = (e: EventEnvelope) => e.qualifiedName ?? e.type;

/** True for the envelopes of `ctx.streamText`'s events (its TextEvent and its stored deltas). */
export const isTextEnvelope = (e: EventEnvelope): boolean => {
  const name = nameOf(e);
  return name === TEXT_EVENT_NAMES.text || name === TEXT_EVENT_NAMES.delta;
};

/**
 * Puts together the text of the streams of one run from what `followRun` yields: live deltas, stored
 * deltas and TextEvents, whichever the reader gets and however often (a reconnecting reader gets the
 * text so far again). Each piece of text is applied once, by its offset, so none is lost or doubled.
 *
 * @example
 * const texts = new TextStreams();
 * for await (const item of client.followRun(handlerId)) {
 *   const change = texts.apply(item);
 *   if (change) render(change.id, change.text);
 * }
 */
export class TextStreams {
  readonly #texts = new Map<string, StreamedText>();

  /** The streams so far, in the order they started. */
  get all(): StreamedText[] {
    return [...this.#texts.values()];
  }

  get(id: string): StreamedText | undefined {
    return this.#texts.get(id);
  }

  /** Applies an item; returns the change, or null when it brought nothing new (or is no text). */
  apply(item: RunStreamItem): TextChange | null {
    if (isTextDelta(item)) return this.#delta(item.id, item.attempt, item.offset, item.delta);
    const name = nameOf(item);
    const v = item.value;
    if (name === TEXT_EVENT_NAMES.delta) {
      return this.#delta(String(v["id"]), String(v["attempt"]), Number(v["offset"]), String(v["delta"]));
    }
    if (name === TEXT_EVENT_NAMES.text)
      return this.#whole(String(v["id"]), String(v["attempt"]), String(v["text"]));
    return null;
  }

  #delta(id: string, attempt: string, offset: number, delta: string): TextChange | null {
    const known = this.#texts.get(id);
    if (!known || known.attempt !== attempt) {
      // a stream (or a new attempt of it) is only joined from its start: a follower gets the text so far
      if (offset !== 0) return null;
      return this.#begin(id, attempt, delta, false, known);
    }
    if (known.done) return null;
    const have = known.text.length;
    if (offset > have || offset + delta.length <= have) return null;
    const added = delta.slice(have - offset);
    known.text += added;
    return { kind: "append", id, attempt, delta: added, text: known.text, done: false };
  }

  #whole(id: string, attempt: string, text: string): TextChange | null {
    const known = this.#texts.get(id);
    if (known && known.attempt === attempt && text.startsWith(known.text)) {
      if (known.done) return null;
      const added = text.slice(known.text.length);
      known.text = text;
      known.done = true;
      return { kind: "append", id, attempt, delta: added, text, done: true };
    }
    return this.#begin(id, attempt, text, true, known);
  }

  #begin(
    id: string,
    attempt: string,
    text: string,
    done: boolean,
    known: StreamedText | undefined,
  ): TextChange {
    // a restarted stream moves to the end: its text comes after what was published meanwhile
    if (known) this.#texts.delete(id);
    this.#texts.set(id, { id, attempt, text, done });
    return { kind: known ? "restart" : "start", id, attempt, delta: text, text, done };
  }
}
