/**
 * Incremental readers for the two stream formats of GET /events: Server-Sent Events and NDJSON.
 * Both take bytes in chunks of any size (a chunk may end inside a multi-byte UTF-8 character or
 * between the CR and LF of a line break) and hold only the current unfinished line and event in
 * memory, so a stream may run for as long as it likes.
 */

/** One dispatched SSE event. */
export interface SseEvent {
  kind: "event";
  /** The last event id seen on the stream (ids persist across events, as in the SSE standard). */
  id: string | undefined;
  /** The `event:` field; "message" when absent. */
  event: string;
  /** The `data:` lines joined by "\n". */
  data: string;
  /** The `retry:` field, in milliseconds, when this event block had a valid one. */
  retry?: number;
}

/** An SSE comment line (`: ping`), without the colon and one leading space. */
export interface SseComment {
  kind: "comment";
  text: string;
}

export type SseItem = SseEvent | SseComment;

export interface StreamReaderOptions {
  /** A line longer than this many characters is an error rather than unbounded memory. Default 16 MiB. */
  maxLineLength?: number;
}

const DEFAULT_MAX_LINE = 16 * 1024 * 1024;

/**
 * Splits decoded text into lines on LF, CR or CRLF, remembering a CR at a chunk's end so that an LF
 * starting the next chunk completes the same line break.
 */
class LineBuffer {
  readonly #decoder = new TextDecoder("utf-8");
  readonly #maxLineLength: number;
  #pending = "";
  #afterCr = false;
  #started = false;

  constructor(maxLineLength: number) {
    this.#maxLineLength = maxLineLength;
  }

  push(chunk: Uint8Array | string, onLine: (line: string) => void): void {
    let text: string;
    if (typeof chunk === "string") {
      // TextDecoder drops a leading byte-order mark of a byte stream; a text stream may still carry one
      text = !this.#started && chunk.charCodeAt(0) === 0xfeff ? chunk.slice(1) : chunk;
    } else {
      text = this.#decoder.decode(chunk, { stream: true });
    }
    if (text.length > 0) this.#started = true;
    this.#scan(text, onLine);
  }

  /** Flushes the decoder; returns the unterminated last line, if any. */
  end(): string {
    const tail = this.#decoder.decode();
    if (tail) this.#scan(tail, () => {});
    const rest = this.#pending;
    this.#pending = "";
    return rest;
  }

  #scan(text: string, onLine: (line: string) => void): void {
    let start = 0;
    if (this.#afterCr && text.length > 0) {
      this.#afterCr = false;
      if (text.charCodeAt(0) === 10) start = 1;
    }
    // indexOf rather than a loop over every character: most chunks hold no CR at all
    let lf = text.indexOf("\n", start);
    let cr = text.indexOf("\r", start);
    while (lf !== -1 || cr !== -1) {
      const i = cr === -1 || (lf !== -1 && lf < cr) ? lf : cr;
      const line = this.#pending === "" ? text.slice(start, i) : this.#pending + text.slice(start, i);
      this.#pending = "";
      start = i + 1;
      if (i === cr) {
        if (start < text.length) {
          if (text.charCodeAt(start) === 10) start++;
        } else {
          this.#afterCr = true;
        }
      }
      if (lf !== -1 && lf < start) lf = text.indexOf("\n", start);
      if (cr !== -1 && cr < start) cr = text.indexOf("\r", start);
      onLine(line);
    }
    if (start < text.length) {
      this.#pending += text.slice(start);
      if (this.#pending.length > this.#maxLineLength) {
        throw new RangeError(`Stream line longer than ${this.#maxLineLength} characters`);
      }
    }
  }
}

/**
 * An incremental Server-Sent Events parser following the WHATWG event-stream rules: `data` lines
 * join with "\n", a blank line dispatches, `id` persists, one space after the colon is dropped,
 * lines starting with ":" are comments, unknown fields are ignored, and an event left unfinished at
 * the end of the stream is discarded.
 *
 * @example
 * const parser = new SseParser();
 * for (const item of parser.push(bytes)) if (item.kind === "event") console.log(item.data);
 */
export class SseParser {
  readonly #lines: LineBuffer;
  #data: string[] = [];
  #hasData = false;
  #event = "";
  #lastId: string | undefined = undefined;
  #retry: number | undefined = undefined;

  constructor(options: StreamReaderOptions = {}) {
    this.#lines = new LineBuffer(options.maxLineLength ?? DEFAULT_MAX_LINE);
  }

  /** Feeds a chunk; returns the events and comments it completed. */
  push(chunk: Uint8Array | string): SseItem[] {
    const out: SseItem[] = [];
    this.#lines.push(chunk, (line) => this.#line(line, out));
    return out;
  }

  /** Ends the stream. An unterminated last line is processed, but an undispatched event is dropped. */
  end(): SseItem[] {
    const out: SseItem[] = [];
    const rest = this.#lines.end();
    if (rest) this.#line(rest, out);
    this.#resetEvent();
    return out;
  }

  /** The last event id seen, as a reconnecting client sends it in `Last-Event-ID`. */
  get lastEventId(): string | undefined {
    return this.#lastId;
  }

  #line(line: string, out: SseItem[]): void {
    if (line === "") {
      if (this.#hasData) {
        const event: SseEvent = {
          kind: "event",
          id: this.#lastId,
          event: this.#event || "message",
          data: this.#data.join("\n"),
        };
        if (this.#retry !== undefined) event.retry = this.#retry;
        out.push(event);
      }
      this.#resetEvent();
      return;
    }
    if (line.charCodeAt(0) === 58 /* ":" */) {
      out.push({ kind: "comment", text: line.charCodeAt(1) === 32 ? line.slice(2) : line.slice(1) });
      return;
    }
    const colon = line.indexOf(":");
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? "" : line.slice(colon + 1);
    if (value.charCodeAt(0) === 32) value = value.slice(1);
    switch (field) {
      case "data":
        this.#data.push(value);
        this.#hasData = true;
        break;
      case "event":
        this.#event = value;
        break;
      case "id":
        if (!value.includes("\u0000")) this.#lastId = value;
        break;
      case "retry":
        if (/^\d+$/.test(value)) this.#retry = Number(value);
        break;
      default:
        break;
    }
  }

  #resetEvent(): void {
    this.#data = [];
    this.#hasData = false;
    this.#event = "";
    this.#retry = undefined;
  }
}

/**
 * Splits an NDJSON byte stream into its non-blank lines. A last line without its line break is
 * reported separately by `end()` because on a dropped connection it may be cut short.
 */
export class NdjsonSplitter {
  readonly #lines: LineBuffer;

  constructor(options: StreamReaderOptions = {}) {
    this.#lines = new LineBuffer(options.maxLineLength ?? DEFAULT_MAX_LINE);
  }

  /** Feeds a chunk; returns the complete, non-blank lines it finished. */
  push(chunk: Uint8Array | string): string[] {
    const out: string[] = [];
    this.#lines.push(chunk, (line) => {
      if (line.trim() !== "") out.push(line);
    });
    return out;
  }

  /** Ends the stream; returns the unterminated last line, or null when the stream ended on a break. */
  end(): string | null {
    const rest = this.#lines.end();
    return rest.trim() === "" ? null : rest;
  }
}
