// An OTLP/HTTP trace receiver on loopback: it takes what the official exporters send to /v1/traces,
// in JSON (http/json) or protobuf (http/protobuf, decoded by the small reader below), and keeps the spans.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";

type Attr = string | number | boolean;

export interface ReceivedSpan {
  traceId: string;
  spanId: string;
  /** "" for a root span. */
  parentSpanId: string;
  name: string;
  kind: number;
  attributes: Record<string, Attr>;
  events: { name: string; attributes: Record<string, Attr> }[];
  links: { traceId: string; spanId: string }[];
  /** 0 unset, 1 ok, 2 error. */
  statusCode: number;
  serviceName: string;
}

export class OtlpReceiver {
  readonly spans: ReceivedSpan[] = [];
  /** Content types of the requests received. */
  readonly contentTypes: string[] = [];
  #server: Server | null = null;
  url = "";

  async start(): Promise<this> {
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        const body = Buffer.concat(chunks);
        const type = req.headers["content-type"] ?? "";
        this.contentTypes.push(type);
        try {
          if (req.url !== "/v1/traces") throw new Error(`unexpected path ${req.url}`);
          const spans = type.includes("json") ? fromJson(JSON.parse(body.toString("utf8"))) : fromProto(body);
          this.spans.push(...spans);
          res.writeHead(200, { "content-type": type.includes("json") ? "application/json" : type });
          res.end(type.includes("json") ? "{}" : "");
        } catch (error) {
          res.writeHead(400);
          res.end(String(error));
        }
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    this.#server = server;
    this.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    return this;
  }

  named(name: string): ReceivedSpan[] {
    return this.spans.filter((s) => s.name === name);
  }

  async close(): Promise<void> {
    const server = this.#server;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

// ---- JSON (the exporter's http/json: ids in hex, values as AnyValue objects) ---------------------------

interface JsonKeyValue {
  key: string;
  value: { stringValue?: string; intValue?: number | string; boolValue?: boolean; doubleValue?: number };
}

function jsonAttrs(list: JsonKeyValue[] | undefined): Record<string, Attr> {
  const out: Record<string, Attr> = {};
  for (const { key, value } of list ?? []) {
    out[key] =
      value.stringValue ??
      (value.intValue !== undefined ? Number(value.intValue) : undefined) ??
      value.boolValue ??
      value.doubleValue ??
      "";
  }
  return out;
}

// biome-ignore lint/suspicious/noExplicitAny: the OTLP JSON document as parsed
function fromJson(doc: any): ReceivedSpan[] {
  const spans: ReceivedSpan[] = [];
  for (const rs of doc.resourceSpans ?? []) {
    const serviceName = String(jsonAttrs(rs.resource?.attributes)["service.name"] ?? "");
    for (const ss of rs.scopeSpans ?? []) {
      for (const s of ss.spans ?? []) {
        spans.push({
          traceId: s.traceId,
          spanId: s.spanId,
          parentSpanId: s.parentSpanId ?? "",
          name: s.name,
          kind: s.kind,
          attributes: jsonAttrs(s.attributes),
          // biome-ignore lint/suspicious/noExplicitAny: as parsed
          events: (s.events ?? []).map((e: any) => ({ name: e.name, attributes: jsonAttrs(e.attributes) })),
          // biome-ignore lint/suspicious/noExplicitAny: as parsed
          links: (s.links ?? []).map((l: any) => ({ traceId: l.traceId, spanId: l.spanId })),
          statusCode: s.status?.code ?? 0,
          serviceName,
        });
      }
    }
  }
  return spans;
}

// ---- protobuf (opentelemetry/proto/collector/trace/v1 ExportTraceServiceRequest) ---------------------

type Field = { no: number; varint?: bigint; bytes?: Buffer };

/** The fields of one protobuf message, in order (varints and length-delimited; fixed64 kept as bytes). */
function fields(buf: Buffer): Field[] {
  const out: Field[] = [];
  let i = 0;
  const varint = (): bigint => {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      const b = buf[i++] as number;
      result |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) return result;
      shift += 7n;
    }
  };
  while (i < buf.length) {
    const key = Number(varint());
    const no = key >>> 3;
    const wire = key & 7;
    if (wire === 0) out.push({ no, varint: varint() });
    else if (wire === 2) {
      const len = Number(varint());
      out.push({ no, bytes: buf.subarray(i, i + len) });
      i += len;
    } else if (wire === 1) {
      out.push({ no, bytes: buf.subarray(i, i + 8) });
      i += 8;
    } else if (wire === 5) {
      out.push({ no, bytes: buf.subarray(i, i + 4) });
      i += 4;
    } else throw new Error(`unsupported wire type ${wire}`);
  }
  return out;
}

const sub = (f: Field[], no: number): Buffer[] => f.filter((x) => x.no === no).map((x) => x.bytes as Buffer);
const str = (f: Field[], no: number): string => sub(f, no)[0]?.toString("utf8") ?? "";
const hex = (f: Field[], no: number): string => sub(f, no)[0]?.toString("hex") ?? "";

function protoValue(buf: Buffer): Attr {
  const f = fields(buf)[0];
  if (!f) return "";
  if (f.no === 1) return (f.bytes as Buffer).toString("utf8");
  if (f.no === 2) return f.varint === 1n;
  if (f.no === 3) return Number(BigInt.asIntN(64, f.varint as bigint));
  if (f.no === 4) return (f.bytes as Buffer).readDoubleLE(0);
  return "";
}

function protoAttrs(list: Buffer[]): Record<string, Attr> {
  const out: Record<string, Attr> = {};
  for (const kv of list) {
    const f = fields(kv);
    out[str(f, 1)] = protoValue(sub(f, 2)[0] ?? Buffer.alloc(0));
  }
  return out;
}

function fromProto(body: Buffer): ReceivedSpan[] {
  const spans: ReceivedSpan[] = [];
  for (const rsBuf of sub(fields(body), 1)) {
    const rs = fields(rsBuf);
    const resource = sub(rs, 1)[0];
    const serviceName = String(resource ? (protoAttrs(sub(fields(resource), 1))["service.name"] ?? "") : "");
    for (const ssBuf of sub(rs, 2)) {
      for (const spanBuf of sub(fields(ssBuf), 2)) {
        const s = fields(spanBuf);
        const status = sub(s, 15)[0];
        spans.push({
          traceId: hex(s, 1),
          spanId: hex(s, 2),
          parentSpanId: hex(s, 4),
          name: str(s, 5),
          kind: Number(s.find((x) => x.no === 6)?.varint ?? 0n),
          attributes: protoAttrs(sub(s, 9)),
          events: sub(s, 11).map((e) => {
            const ef = fields(e);
            return { name: str(ef, 2), attributes: protoAttrs(sub(ef, 3)) };
          }),
          links: sub(s, 13).map((l) => {
            const lf = fields(l);
            return { traceId: hex(lf, 1), spanId: hex(lf, 2) };
          }),
          statusCode: status ? Number(fields(status).find((x) => x.no === 3)?.varint ?? 0n) : 0,
          serviceName,
        });
      }
    }
  }
  return spans;
}
