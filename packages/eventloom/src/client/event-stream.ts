import { EnvelopeShape } from "../protocol/answer-shapes.js";
import { type EventEnvelope, fromEnvelope, isTerminalEnvelope } from "../protocol/codec.js";
import { envelopeFromJson } from "../protocol/envelope-json.js";
import { routePath } from "../protocol/routes.js";
import { checkShape } from "../protocol/shape.js";
import { ClientTimeoutError, WorkflowClientError, WorkflowNetworkError } from "./errors.js";
import { NdjsonSplitter, SseParser } from "./sse-parser.js";
import { type CallOptions, delay, errorFromAnswer, type OpenResponse, type Transport } from "./transport.js";

/** Options of `getWorkflowEvents`. */
export interface EventStreamOptions extends CallOptions {
  /** Also stream internal events (step state changes, idle). Default false. */
  includeInternal?: boolean;
  /** Default true; with false, envelopes have no `qualifiedName`. */
  includeQualifiedName?: boolean;
  /**
   * Stream the events whose sequence is greater. Default -1 (from the first event); "now" = only
   * events after the request. With "now", a connection dropped before any event arrived resumes at
   * "now" again, so events in that gap are missed.
   */
  afterSequence?: number | "now";
  /** Reconnection attempts in a row without a new event before giving up. Default 5. */
  maxReconnects?: number;
  /** Delay before the first reconnection, doubled on each further one (up to 5 s). Default 200 ms. */
  reconnectDelayMs?: number;
  /** Server-Sent Events (default) or, with false, NDJSON. */
  sse?: boolean;
}

/** Options of `followRun`. */
export interface FollowRunOptions extends EventStreamOptions {
  /** Also yield the text deltas steps write with `ctx.streamText` (not stored). Default true. */
  includeDeltas?: boolean;
}

/**
 * A piece of text a step streamed with `ctx.streamText` (not stored): `delta` starts at `offset` in
 * the text of stream `id`; a new `attempt` for the same `id` means the stream started again.
 */
export interface TextDeltaItem {
  kind: "delta";
  id: string;
  attempt: string;
  offset: number;
  delta: string;
}

/** What `followRun` yields: the run's stored events and, between them, text deltas. */
export type RunStreamItem = EventEnvelope | TextDeltaItem;

/** True for a text delta, false for a stored event's envelope. */
export const isTextDelta = (item: RunStreamItem): item is TextDeltaItem =>
  (item as Partial<TextDeltaItem>).kind === "delta";

const MAX_RECONNECT_DELAY_MS = 5_000;
// answers that mean "not now" rather than "never": worth reconnecting
const RETRYABLE_STATUSES = new Set([502, 503, 504]);

/** Why a connection ended without the terminal event, to decide whether to reconnect. */
class Dropped extends Error {}

/**
 * Streams a handler's events, reconnecting from the last sequence seen when the connection drops,
 * so that no event is repeated or skipped. Ends after the terminal event, or when the server answers
 * 204 (the run has ended and nothing is left after the cursor).
 */
export function streamEvents(
  transport: Transport,
  handlerId: string,
  options: EventStreamOptions = {},
): AsyncGenerator<EventEnvelope, void, undefined> {
  // without include_deltas the server sends envelopes only
  return streamItems(transport, handlerId, { ...options, includeDeltas: false }) as AsyncGenerator<
    EventEnvelope,
    void,
    undefined
  >;
}

/** {@link streamEvents} with the text deltas (when `includeDeltas` is not false) between the events. */
export async function* streamItems(
  transport: Transport,
  handlerId: string,
  options: FollowRunOptions = {},
): AsyncGenerator<RunStreamItem, void, undefined> {
  const deltas = options.includeDeltas ?? true;
  const sse = options.sse ?? true;
  const maxReconnects = options.maxReconnects ?? 5;
  const baseDelay = options.reconnectDelayMs ?? 200;
  const path = routePath("streamEvents", { handler_id: handlerId });
  let cursor: number | "now" = options.afterSequence ?? -1;
  let failures = 0;
  for (;;) {
    let lastError: unknown;
    try {
      const open = await transport.open(path, {
        method: "GET",
        query: {
          sse: sse ? "true" : "false",
          include_internal: options.includeInternal ? "true" : "false",
          include_qualified_name: options.includeQualifiedName === false ? "false" : "true",
          after_sequence: String(cursor),
          ...(deltas ? { include_deltas: "true" } : {}),
        },
        accept: sse ? "text/event-stream" : "application/x-ndjson",
        signal: options.signal,
        timeoutMs: options.timeoutMs,
        stream: true,
      });
      try {
        const { status } = open.response;
        if (status === 204) return;
        if (status !== 200) {
          const text = await open.response.text().catch(() => "");
          const error = errorFromAnswer(status, parseMaybeJson(text));
          if (!RETRYABLE_STATUSES.has(status)) throw error;
          throw new Dropped(error.message, { cause: error });
        }
        for await (const batch of readEnvelopes(open, sse, deltas)) {
          for (const envelope of batch) {
            if (isTextDelta(envelope)) {
              yield envelope;
              continue;
            }
            // a server replaying from an older cursor must not make us repeat an event
            if (typeof cursor === "number" && envelope.sequence <= cursor) continue;
            cursor = envelope.sequence;
            failures = 0;
            yield envelope;
            if (isTerminalEnvelope(envelope)) return;
          }
        }
        throw new Dropped("The event stream ended before the run's terminal event");
      } finally {
        open.release();
      }
    } catch (error) {
      if (options.signal?.aborted) throw options.signal.reason;
      const retryable =
        error instanceof Dropped ||
        error instanceof WorkflowNetworkError ||
        error instanceof ClientTimeoutError;
      if (!retryable) throw error;
      lastError = error instanceof Dropped ? (error.cause ?? error) : error;
    }
    failures++;
    if (failures > maxReconnects) {
      if (lastError instanceof WorkflowClientError || lastError instanceof WorkflowNetworkError)
        throw lastError;
      if (lastError instanceof ClientTimeoutError) throw lastError;
      throw new WorkflowNetworkError(transport.url(path), lastError);
    }
    await delay(Math.min(MAX_RECONNECT_DELAY_MS, baseDelay * 2 ** (failures - 1)), options.signal);
  }
}

function parseMaybeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function decodeDelta(json: unknown, url: string): TextDeltaItem {
  const d = json as Partial<TextDeltaItem> | null;
  if (
    typeof d === "object" &&
    d !== null &&
    typeof d.id === "string" &&
    typeof d.attempt === "string" &&
    typeof d.offset === "number" &&
    typeof d.delta === "string"
  ) {
    return { kind: "delta", id: d.id, attempt: d.attempt, offset: d.offset, delta: d.delta };
  }
  throw new WorkflowClientError({
    status: 200,
    code: "INVALID_RESPONSE",
    detail: `A delta from ${url} is malformed`,
  });
}

// An SSE `delta` frame, or an NDJSON line without a sequence, is a text delta.
function decodeItem(text: string, url: string, sseEvent: string | null): RunStreamItem {
  const json = parseJson(text, url);
  if (sseEvent === "delta") return decodeDelta(json, url);
  if (typeof json === "object" && json !== null && !("sequence" in json)) return decodeDelta(json, url);
  return envelopeOf(json, url);
}

function parseJson(text: string, url: string): unknown {
  try {
    return JSON.parse(text);
  } catch (cause) {
    throw new WorkflowClientError({
      status: 200,
      code: "INVALID_RESPONSE",
      detail: `An event from ${url} is not JSON`,
      cause,
    });
  }
}

const decodeEnvelope = (text: string, url: string): EventEnvelope => envelopeOf(parseJson(text, url), url);

function envelopeOf(json: unknown, url: string): EventEnvelope {
  const fast = envelopeFromJson(json);
  if (fast) return fast;
  const parsed = checkShape(EnvelopeShape, json);
  if (!parsed.ok) {
    throw new WorkflowClientError({
      status: 200,
      code: "INVALID_RESPONSE",
      detail: `An event from ${url} is not an envelope: ${parsed.error.message}`,
      cause: parsed.error,
    });
  }
  return fromEnvelope(parsed.value);
}

// Reads one connection's envelopes, those of each chunk together (one await per chunk, not per
// event). A read that fails (socket reset) becomes `Dropped`; a malformed event is a
// WorkflowClientError and is not retried.
async function* readEnvelopes(
  open: OpenResponse,
  sse: boolean,
  deltas: boolean,
): AsyncGenerator<RunStreamItem[]> {
  const body = open.response.body;
  if (!body) return;
  const reader = body.getReader();
  const sseParser = sse ? new SseParser() : null;
  const lines = sse ? null : new NdjsonSplitter();
  try {
    for (;;) {
      let chunk: ReadableStreamReadResult<Uint8Array>;
      try {
        chunk = await reader.read();
      } catch (error) {
        const mapped = open.mapError(error);
        if (mapped instanceof WorkflowNetworkError) throw new Dropped(mapped.message, { cause: mapped });
        throw mapped;
      }
      if (chunk.done) break;
      const batch: RunStreamItem[] = [];
      try {
        if (sseParser) {
          for (const item of sseParser.push(chunk.value)) {
            if (item.kind !== "event") continue;
            if (item.event === "delta") {
              if (deltas) batch.push(decodeItem(item.data, open.url, "delta"));
            } else batch.push(decodeEnvelope(item.data, open.url));
          }
        } else if (lines) {
          for (const line of lines.push(chunk.value)) {
            batch.push(deltas ? decodeItem(line, open.url, null) : decodeEnvelope(line, open.url));
          }
        }
      } catch (error) {
        // the events before a malformed one are still delivered, as they were one by one
        if (batch.length > 0) yield batch;
        throw error;
      }
      if (batch.length > 0) yield batch;
    }
    if (lines) {
      // a last line without its line break is kept only when it is whole; else the drop cut it
      const rest = lines.end();
      if (rest !== null) {
        let envelope: RunStreamItem | null = null;
        try {
          envelope = deltas ? decodeItem(rest, open.url, null) : decodeEnvelope(rest, open.url);
        } catch {
          envelope = null;
        }
        if (envelope) yield [envelope];
      }
    }
  } finally {
    reader.cancel().catch(() => {});
  }
}
