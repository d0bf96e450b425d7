import { NdjsonSplitter, type SseItem, SseParser } from "eventloom/client";
import fc from "fast-check";
import { describe, expect, it } from "vitest";

const encoder = new TextEncoder();

function feed(parser: SseParser, bytes: Uint8Array, cuts: number[]): SseItem[] {
  const out: SseItem[] = [];
  let start = 0;
  for (const cut of [...cuts, bytes.length]) {
    out.push(...parser.push(bytes.subarray(start, cut)));
    start = cut;
  }
  out.push(...parser.end());
  return out;
}

const cutsOf = (length: number) =>
  fc.uniqueArray(fc.integer({ min: 0, max: length }), { maxLength: 40 }).map((a) => a.sort((x, y) => x - y));

// Text with multi-byte characters (2, 3 and 4 UTF-8 bytes) but no line breaks.
const lineText = fc
  .array(fc.constantFrom("a", "Z", " ", ":", "é", "€", "日", "😀", "{", '"', "0"), { maxLength: 12 })
  .map((a) => a.join(""));

interface Frame {
  id?: string;
  event?: string;
  data: string[];
  comment?: string;
}

const frame: fc.Arbitrary<Frame> = fc.record(
  {
    id: fc.stringMatching(/^[0-9]{1,4}$/),
    event: fc.stringMatching(/^[a-z]{1,8}$/),
    data: fc.array(lineText, { minLength: 1, maxLength: 4 }),
    comment: lineText,
  },
  { requiredKeys: ["data"] },
);

function serialize(frames: Frame[], eol: string, bom: boolean): string {
  let s = bom ? "\uFEFF" : "";
  for (const f of frames) {
    if (f.comment !== undefined) s += `:${f.comment}${eol}`;
    if (f.id !== undefined) s += `id: ${f.id}${eol}`;
    if (f.event !== undefined) s += `event:${f.event}${eol}`;
    for (const d of f.data) s += `data: ${d}${eol}`;
    s += eol;
  }
  return s;
}

function expected(frames: Frame[]): SseItem[] {
  const out: SseItem[] = [];
  let lastId: string | undefined;
  for (const f of frames) {
    if (f.comment !== undefined)
      out.push({ kind: "comment", text: f.comment.startsWith(" ") ? f.comment.slice(1) : f.comment });
    if (f.id !== undefined) lastId = f.id;
    out.push({ kind: "event", id: lastId, event: f.event ?? "message", data: f.data.join("\n") });
  }
  return out;
}

describe("SseParser", () => {
  it("yields the same events under any chunking, with LF, CR or CRLF line breaks and a BOM", () => {
    const stream = fc
      .record({
        frames: fc.array(frame, { maxLength: 8 }),
        eol: fc.constantFrom("\n", "\r", "\r\n"),
        bom: fc.boolean(),
      })
      .chain((s) => {
        const bytes = encoder.encode(serialize(s.frames, s.eol, s.bom));
        return fc.record({ s: fc.constant(s), bytes: fc.constant(bytes), cuts: cutsOf(bytes.length) });
      });
    fc.assert(
      fc.property(stream, ({ s, bytes, cuts }) => {
        expect(feed(new SseParser(), bytes, cuts)).toEqual(expected(s.frames));
      }),
      { numRuns: 300 },
    );
  });

  it("yields the same items under any chunking when line breaks are mixed", () => {
    const mixed = fc
      .array(
        fc.tuple(
          fc.constantFrom("data: ", "id:", ": ", "event: ", "retry: ", ""),
          lineText,
          fc.constantFrom("\n", "\r", "\r\n"),
        ),
        {
          maxLength: 30,
        },
      )
      .map((lines) => encoder.encode(lines.map(([field, text, eol]) => field + text + eol).join("")))
      .chain((bytes) => fc.record({ bytes: fc.constant(bytes), cuts: cutsOf(bytes.length) }));
    fc.assert(
      fc.property(mixed, ({ bytes, cuts }) => {
        expect(feed(new SseParser(), bytes, cuts)).toEqual(feed(new SseParser(), bytes, []));
      }),
      { numRuns: 300 },
    );
  });

  it("parses the server's frames and ping comments", () => {
    const parser = new SseParser();
    const items = parser.push(': ping\n\nid: 0\ndata: {"sequence":0}\n\nid: 1\ndata: {"sequence":1}\n\n');
    expect(items).toEqual([
      { kind: "comment", text: "ping" },
      { kind: "event", id: "0", event: "message", data: '{"sequence":0}' },
      { kind: "event", id: "1", event: "message", data: '{"sequence":1}' },
    ]);
    expect(parser.lastEventId).toBe("1");
  });

  it("follows the SSE rules for fields without colons, retry, empty data and ids with NUL", () => {
    const items = new SseParser().push(
      "data\n\nretry: 1500\ndata:x\n\nretry: soon\nid: a\u0000b\ndata: y\n\nid\n\nunknown: z\n\n",
    );
    expect(items).toEqual([
      { kind: "event", id: undefined, event: "message", data: "" },
      { kind: "event", id: undefined, event: "message", data: "x", retry: 1500 },
      { kind: "event", id: undefined, event: "message", data: "y" },
    ]);
  });

  it("drops an event left unfinished when the stream ends", () => {
    const parser = new SseParser();
    expect(parser.push("data: whole\n\ndata: cut sho")).toHaveLength(1);
    expect(parser.end()).toEqual([]);
  });

  it("holds only the unfinished line in memory on a long stream", () => {
    const parser = new SseParser({ maxLineLength: 64 });
    const frameText = `data: ${"x".repeat(50)}\n\n`;
    let count = 0;
    for (let i = 0; i < 20_000; i++) count += parser.push(frameText).length;
    expect(count).toBe(20_000);
    expect(() => parser.push("data: ".padEnd(100, "y"))).toThrow(RangeError);
  });
});

describe("NdjsonSplitter", () => {
  it("yields the same lines under any chunking, including splits inside UTF-8 characters", () => {
    const stream = fc
      .record({
        lines: fc.array(
          lineText.filter((l) => l.trim() !== ""),
          { maxLength: 10 },
        ),
        eol: fc.constantFrom("\n", "\r\n"),
      })
      .chain((s) => {
        const bytes = encoder.encode(s.lines.map((l) => l + s.eol).join(""));
        return fc.record({
          lines: fc.constant(s.lines),
          bytes: fc.constant(bytes),
          cuts: cutsOf(bytes.length),
        });
      });
    fc.assert(
      fc.property(stream, ({ lines, bytes, cuts }) => {
        const splitter = new NdjsonSplitter();
        const out: string[] = [];
        let start = 0;
        for (const cut of [...cuts, bytes.length]) {
          out.push(...splitter.push(bytes.subarray(start, cut)));
          start = cut;
        }
        expect(out).toEqual(lines);
        expect(splitter.end()).toBeNull();
      }),
      { numRuns: 300 },
    );
  });

  it("skips blank lines and reports an unterminated last line apart", () => {
    const splitter = new NdjsonSplitter();
    expect(splitter.push('{"a":1}\n\n  \n{"b":')).toEqual(['{"a":1}']);
    expect(splitter.end()).toBe('{"b":');
  });
});
