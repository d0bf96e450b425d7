import { z } from "zod";
import { randomId } from "./clock.js";
import type { RunView } from "./engine-types.js";
import { EventTooLargeError } from "./errors.js";
import { defineEvent, type WorkflowEvent } from "./events.js";
import { jsonBytes, jsonLargerThan } from "./json-size.js";
import { TEXT_EVENT_NAMES } from "./text-names.js";

/**
 * The whole text of one `ctx.streamText` call, written once (durably) when its source ends. `id`
 * names the stream (stable when a step runs again); `attempt` names this call, so that a reader can
 * tell a stream started again (after a crash or a retry) from the one it was following.
 */
export const TextEvent = defineEvent(
  TEXT_EVENT_NAMES.text,
  z.object({ id: z.string(), attempt: z.string(), text: z.string() }),
);

/** One delta of a stream written with `durable: true`: each is a stored event of the run. */
export const TextDeltaEvent = defineEvent(
  TEXT_EVENT_NAMES.delta,
  z.object({ id: z.string(), attempt: z.string(), offset: z.number().int().min(0), delta: z.string() }),
);

/**
 * A piece of streamed text that is not stored. `offset` is where `delta` starts in the stream's text
 * (UTF-16 code units); `after` is the run's last published sequence when it was written: a reader
 * gets it after that event, so that text never overtakes the events the step published before it.
 */
export interface TextDelta {
  id: string;
  attempt: string;
  offset: number;
  delta: string;
  after: number;
}

export interface StreamTextOptions {
  /** Names the stream; default `<step>:<item id>:<n>` (the n-th streamText of this step execution). */
  id?: string;
  /**
   * Store every delta as a `TextDeltaEvent` (a durable write per delta) instead of keeping it in
   * memory until the end. Default false.
   */
  durable?: boolean;
}

/**
 * The text streams of one run in this process: the text so far of each stream still open, and
 * whoever follows them. A follower first gets each open stream's text so far as one delta from
 * offset 0, then every later delta, so that a reader that connects mid-stream misses nothing.
 */
export class LiveText {
  readonly #open = new Map<string, TextDelta>();
  readonly #followers = new Set<(delta: TextDelta) => void>();

  write(delta: TextDelta): void {
    const open = this.#open.get(delta.id);
    if (open && open.attempt === delta.attempt) open.delta += delta.delta;
    else this.#open.set(delta.id, { ...delta });
    for (const follower of this.#followers) follower(delta);
  }

  /** The stream ended (its TextEvent is published) or its attempt stopped: nothing more to replay. */
  close(id: string, attempt: string): void {
    if (this.#open.get(id)?.attempt === attempt) this.#open.delete(id);
  }

  /** Calls `follower` with each open stream's text so far, then with every delta; returns an unsubscribe. */
  follow(follower: (delta: TextDelta) => void): () => void {
    for (const open of this.#open.values()) follower({ ...open });
    this.#followers.add(follower);
    return () => this.#followers.delete(follower);
  }
}

// Keyed by the run loop object, so that the engine itself need not know about text streams.
const liveTexts = new WeakMap<object, LiveText>();

/** The text streams of the run that `host` (a RunEngine) runs. */
export function liveTextOf(host: object): LiveText {
  let live = liveTexts.get(host);
  if (!live) {
    live = new LiveText();
    liveTexts.set(host, live);
  }
  return live;
}

/** What {@link pipeText} needs of a step's context. */
export interface TextSink {
  readonly stepName: string;
  readonly signal: AbortSignal;
  writeEventToStream(event: WorkflowEvent): void;
}

/**
 * Reads `source` to its end, streaming each piece; then publishes the TextEvent. Resolves with the
 * text. With `maxBytes` (the run's `maxEventBytes`), the step fails with EVENT_TOO_LARGE as soon as
 * the text so far makes a TextEvent larger than it: the text is never held whole past the limit.
 */
export async function pipeText(
  run: RunView,
  host: object,
  ctx: TextSink,
  source: AsyncIterable<string> | Iterable<string>,
  id: string,
  durable: boolean,
  maxBytes: number | null = null,
): Promise<string> {
  const attempt = randomId();
  const live = liveTextOf(host);
  let text = "";
  // The TextEvent's JSON bytes so far, counted piece by piece (at least the exact count: a surrogate
  // pair split between two pieces counts 2 bytes more); measured exactly only once past the limit.
  let bytes = maxBytes === null ? 0 : jsonBytes({ id, attempt, text: "" });
  try {
    for await (const piece of source) {
      // a stale or cancelled attempt stops here instead of streaming for nobody
      ctx.signal.throwIfAborted();
      if (typeof piece !== "string" || piece === "") continue;
      const offset = text.length;
      if (durable) ctx.writeEventToStream(TextDeltaEvent.create({ id, attempt, offset, delta: piece }));
      else live.write({ id, attempt, offset, delta: piece, after: run.state.nextSequence - 1 });
      text += piece;
      if (maxBytes !== null) bytes += jsonBytes(piece) - 2;
      if (maxBytes !== null && bytes > maxBytes) {
        // A high surrogate at the end may yet be paired (4 bytes for both): measured without it.
        const sure = HIGH_SURROGATE_AT_END.test(text) ? text.slice(0, -1) : text;
        bytes = tooLarge(ctx, TextEvent.create({ id, attempt, text: sure }), maxBytes);
      }
    }
    ctx.signal.throwIfAborted();
    ctx.writeEventToStream(TextEvent.create({ id, attempt, text }));
  } finally {
    live.close(id, attempt);
  }
  return text;
}

const HIGH_SURROGATE_AT_END = /[\ud800-\udbff]$/;

/**
 * The text so far passed the limit by the count: fails the step with EVENT_TOO_LARGE (through the
 * run's own check of a streamed event, which ends the step's execution) when its TextEvent is really
 * larger; else returns its exact size to count on from.
 */
function tooLarge(ctx: TextSink, event: WorkflowEvent, maxBytes: number): number {
  const { larger, bytes } = jsonLargerThan(event.data, maxBytes);
  if (!larger) return bytes;
  ctx.writeEventToStream(event); // throws EventTooLargeError, failing the step, when the run checks sizes
  throw new EventTooLargeError(ctx.stepName, event.type, bytes, maxBytes);
}
