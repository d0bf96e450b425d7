import type { Clock, PublishedEvent } from "../core/index.js";
import type { LiveText } from "../core/text-stream.js";
import { EnvelopeJsonWriter, STOP_EVENT_NAME, type StoredFrame } from "../protocol/index.js";
import type { EventRow, Store } from "../stores/store.js";
import type { HandlerSignals } from "./runs/handler-signals.js";
import type { RecentEvents } from "./runs/recent-events.js";

export interface EventStreamOptions {
  store: Store;
  signals: HandlerSignals;
  /** The events this process just committed, read before the store. */
  recent: RecentEvents | null;
  handlerId: string;
  /** Stream events whose sequence is greater. */
  after: number;
  sse: boolean;
  includeInternal: boolean;
  includeQualifiedName: boolean;
  /** An idle SSE stream carries a `: ping` comment this often. */
  pingIntervalMs: number;
  /** The heartbeat runs on it. */
  clock: Clock;
  /** Events read from the store at a time. */
  pageSize: number;
  /** Called once when the stream ends, whatever the reason. */
  onEnd?: () => void;
  /**
   * The text streams of the handler's run when it runs in this process (asked again after each
   * change, since a resumed run has a new loop): their deltas go out between the stored events.
   * Missing: no deltas.
   */
  liveText?: () => LiveText | null;
  /** Each envelope carries `handler_id`; `"child"`: also no SSE ids (include_children). */
  tagged?: "parent" | "child";
}

/** A stream the server can end (on shutdown). */
export interface OpenStream {
  end(): void;
}

/**
 * A handler's events as text, a page at a time: what a stream's reader is sent next. Pull-based: the
 * store is read only when the reader asks, so a slow reader holds nothing and costs the run nothing.
 */
export interface EventFeed extends OpenStream {
  /** The next frames (a page of events, or a ping); null once the stream is over. */
  next(): Promise<string | null>;
}

const isTerminal = (e: PublishedEvent) => e.types.includes(STOP_EVENT_NAME);

/**
 * A page read from the store ends after the event that brings it to this many bytes of JSON text:
 * with large events, a reader holds a few MiB at a time, not `pageSize` of them.
 */
export const PAGE_BYTES = 4 * 1024 * 1024;

/**
 * A handler's events as SSE frames or NDJSON lines: the stored events after the cursor, then the new
 * ones as they become durable, ending right after the terminal event. `end()` (a disconnect, or the
 * server closing) releases everything.
 */
export function openEventFeed(o: EventStreamOptions): EventFeed {
  let cursor = o.after;
  let ended = false;
  // True when something may have been committed after the last read (a signal, a delta, a ping, or a
  // page that was full): the store is read again only then, so a reader that has caught up costs one
  // read per change of the handler, and nothing between changes.
  let dirty = true;
  let wake: (() => void) | null = null;
  const changed = () => {
    dirty = true;
    wake?.();
  };
  // Deltas come in bursts (a model's network chunk): one wake per turn of the event loop takes a
  // whole burst, where a wake per delta would read the store and write the socket for each.
  let poking = false;
  const deltas = followDeltas(o, () => {
    if (poking) return;
    poking = true;
    setImmediate(() => {
      poking = false;
      changed();
    });
  });
  // The handler's next change, listened for from before each read until the stream ends (a signal
  // is heard once: listened for again at the next read).
  let off: (() => void) | null = null;
  const listen = () => {
    off ??= o.signals.once(o.handlerId, () => {
      off = null;
      changed();
    });
  };

  const unwatch = o.recent?.watch(o.handlerId);
  const finish = () => {
    if (ended) return;
    ended = true;
    unwatch?.();
    deltas.stop();
    off?.();
    off = null;
    wake?.();
    o.onEnd?.();
  };
  const rows = async (after: number, limit: number): Promise<EventRow[]> =>
    o.recent?.read(o.handlerId, after, limit) ?? o.store.readEventRows(o.handlerId, after, limit, PAGE_BYTES);
  const envelopes = new EnvelopeJsonWriter({ includeQualifiedName: o.includeQualifiedName });
  // The envelope cut from the stored text; an event stored in another form is parsed first.
  const envelope = (row: EventRow): StoredFrame => {
    const cut = envelopes.writeStored(row.sequence, row.json);
    if (cut !== null) return cut;
    const e = JSON.parse(row.json) as PublishedEvent;
    return { json: envelopes.write(e), internal: e.internal, terminal: isTerminal(e) };
  };

  // One page: the frames to send, whether the stream ends after them, and whether the page was full
  // (cut at `pageSize` rows or at PAGE_BYTES: more may be stored after it).
  const readPage = async (): Promise<{ text: string; read: number; end: boolean; full: boolean }> => {
    const events = await rows(cursor, o.pageSize);
    let bytes = 0;
    for (const row of events) bytes += row.json.length;
    const full = events.length >= o.pageSize || bytes >= PAGE_BYTES;
    let text = deltas.take(cursor);
    for (let i = 0; i < events.length; i++) {
      const row = events[i] as EventRow;
      cursor = row.sequence;
      const e = envelope(row);
      if (!e.internal || o.includeInternal) {
        const json = o.tagged ? `{"handler_id":${JSON.stringify(o.handlerId)},${e.json.slice(1)}` : e.json;
        const id = o.tagged === "child" ? "" : `id: ${row.sequence}\n`;
        text += o.sse ? `${id}data: ${json}\n\n` : `${json}\n`;
      }
      text += deltas.take(cursor);
      if (e.internal && !o.includeInternal) continue;
      if (e.terminal) {
        // A continued handler has more runs after this one's end: keep going when events follow.
        // A page that was not full holds everything stored when it was read: nothing to look for.
        const next = i + 1 < events.length || (full && (await rows(cursor, 1)).length > 0);
        if (!next) return { text, read: events.length, end: true, full };
      }
    }
    return { text, read: events.length, end: false, full };
  };

  // The last page's text, then the end.
  const last = (text: string): string | null => {
    finish();
    return text || null;
  };

  const next = async (): Promise<string | null> => {
    try {
      for (;;) {
        if (ended) return null;
        listen();
        deltas.follow();
        if (dirty) {
          dirty = false;
          const page = await readPage();
          if (ended) continue;
          if (page.end) return last(page.text);
          if (page.full) dirty = true;
          if (page.text) return page.text;
          if (page.read > 0) continue;
          // Nothing new. A run this process holds is running: no need to ask the store between bursts.
          const live = deltas.live();
          const record = live ? null : await o.store.getHandler(o.handlerId);
          if (!live && record?.status !== "running") {
            // Ended (or deleted) with nothing after the cursor; a last look for events committed meanwhile.
            const again = await readPage();
            if (again.read === 0 || again.end) return last(again.text);
            if (again.full) dirty = true;
            if (again.text) return again.text;
            continue;
          }
        }
        if (dirty) continue;
        const pinged = await new Promise<boolean>((resolve) => {
          const timer = o.clock.setTimeout(() => resolve(true), o.pingIntervalMs);
          wake = () => {
            o.clock.clearTimeout(timer);
            resolve(false);
          };
          if (dirty || ended) wake();
        });
        wake = null;
        if (pinged) {
          // A slow poll, should a change have gone unheard (the store's feed has its own, too).
          dirty = true;
          if (o.sse && !ended) return ": ping\n\n";
        }
      }
    } catch (error) {
      finish();
      throw error;
    }
  };

  return { next, end: finish };
}

/**
 * The most a reader holds of text deltas it has not been sent (UTF-8 bytes of their frames). A reader
 * that falls further behind the text than this drops them: the deltas are transient, and once it asks
 * for more it gets each open stream's text so far again as one delta from offset 0 (the text is at
 * most `maxEventBytes`), which the client's `TextStreams` applies by offset without a gap.
 */
export const DELTA_QUEUE_BYTES = 1024 * 1024;

/** Frames of the text deltas a reader is owed, each sent once the stored events before it are. */
function followDeltas(o: EventStreamOptions, poke: () => void) {
  let source: LiveText | null = null;
  let unfollow: (() => void) | null = null;
  let queue: { after: number; frame: string; bytes: number }[] = [];
  let queued = 0;
  const stop = () => {
    unfollow?.();
    unfollow = null;
    queue = [];
    queued = 0;
  };
  const push = (after: number, frame: string) => {
    const bytes = Buffer.byteLength(frame);
    if (queue.length > 0 && queued + bytes > DELTA_QUEUE_BYTES) {
      // Behind by more than the cap: forget the deltas and the source; follow() starts over.
      stop();
      source = null;
      poke();
      return;
    }
    queue.push({ after, frame, bytes });
    queued += bytes;
    poke();
  };
  return {
    stop,
    /** True while the run's loop is in this process (its text is followed). */
    live: (): boolean => source !== null && o.liveText?.() === source,
    /** Follows the run's live text when it (again) runs here. */
    follow(): void {
      const next = o.liveText?.() ?? null;
      if (next === null || next === source) return;
      unfollow?.();
      source = next;
      unfollow = next.follow((d) => {
        const json = JSON.stringify({ id: d.id, attempt: d.attempt, offset: d.offset, delta: d.delta });
        push(d.after, o.sse ? `event: delta\ndata: ${json}\n\n` : `${json}\n`);
      });
    },
    /** The frames of deltas written after events up to `cursor`, in order. */
    take(cursor: number): string {
      let n = 0;
      let text = "";
      while (n < queue.length && (queue[n] as { after: number }).after <= cursor) {
        const { frame, bytes } = queue[n] as { frame: string; bytes: number };
        text += frame;
        queued -= bytes;
        n++;
      }
      if (n > 0) queue = queue.slice(n);
      return text;
    },
  };
}

/**
 * True when a stream from `after` would have nothing to send: the handler's stored events after the
 * cursor are all hidden (internal) or there are none. Only asked for an ended handler (then: 204).
 */
export async function nothingAfter(
  store: Store,
  handlerId: string,
  after: number,
  includeInternal: boolean,
  pageSize: number,
): Promise<boolean> {
  let cursor = after;
  for (;;) {
    const rows = await store.readEventRows(handlerId, cursor, pageSize, PAGE_BYTES);
    if (rows.length === 0) return true;
    if (includeInternal || rows.some((r) => !(JSON.parse(r.json) as PublishedEvent).internal)) return false;
    cursor = (rows[rows.length - 1] as EventRow).sequence;
  }
}
