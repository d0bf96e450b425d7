import { WorkflowError } from "../../core/index.js";

/** The node request and response of a request node serves. */
export interface NodeBody {
  incoming: {
    on(event: "data", listener: (chunk: Uint8Array) => void): unknown;
    on(event: "end", listener: () => void): unknown;
    on(event: "error", listener: (error: Error) => void): unknown;
    on(event: "close", listener: () => void): unknown;
    removeAllListeners(event: "data"): unknown;
    resume(): void;
    readableEnded: boolean;
    /** Whether anything was read from the body already (by a body parser in front of the server). */
    readableDidRead?: boolean;
    /** What a body parser in front of the server (`express.json()`) left of the body it read. */
    body?: unknown;
    headers: Record<string, string | string[] | undefined>;
  };
  outgoing: { setHeader(name: string, value: string): void };
}

/** Stateless between calls (no `stream` option), so one serves every request. */
const utf8 = new TextDecoder("utf-8", { fatal: true });

const tooLarge = (limit: number) =>
  new WorkflowError("PAYLOAD_TOO_LARGE", `The request body is larger than ${limit} bytes`);

/**
 * Reads a request's JSON body, counting bytes as they arrive: a body over `limit` is refused as soon
 * as it passes it (chunked bodies without Content-Length included), before it is all buffered.
 * An empty body reads as `undefined`.
 *
 * @throws WorkflowError `PAYLOAD_TOO_LARGE` (413) or `INVALID_JSON` (400).
 */
export async function readJsonBody(request: Request, limit: number): Promise<unknown> {
  refuseDeclared(request.headers.get("content-length"), limit);
  if (!request.body) return undefined;
  if (request.bodyUsed) throw alreadyRead();
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = request.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel().catch(() => {});
      throw tooLarge(limit);
    }
    chunks.push(value);
  }
  refuseShort(request.headers.get("content-length"), size);
  return parseJson(chunks, size);
}

/**
 * A body read by something in front of the server, which left nothing to go by: refused, never taken
 * for an empty body (an empty start event).
 */
const alreadyRead = () =>
  new WorkflowError(
    "INVALID_BODY",
    "The request body was read before it reached the server (by a body parser in front of it?) and left no parsed body: mount the server before body parsers, or let them leave the body on request.body",
  );

/**
 * `readJsonBody` for a request node serves: reads the socket's request directly (a web stream over
 * it, or even an async iterator, costs more than a trivial run). `declared` is its Content-Length.
 * A body a body parser in front of the server already read (Express's `express.json()`) is taken
 * from `request.body`; one read without a parsed body left is refused.
 */
export function readNodeJsonBody(
  node: NodeBody,
  declared: string | null | undefined,
  limit: number,
): Promise<unknown> {
  // Not async: one promise fewer per request (every request with a body reads it here).
  try {
    refuseDeclared(declared, limit);
    const { incoming } = node;
    if (incoming.readableEnded || incoming.readableDidRead === true)
      return Promise.resolve(parsedBefore(incoming, declared, limit));
    return readNode(node, limit).then(({ chunks, size }) => {
      refuseShort(declared, size);
      return parseJson(chunks, size);
    });
  } catch (error) {
    return Promise.reject(error);
  }
}

/** The body a body parser read before the server: what it left on `request.body`. */
function parsedBefore(
  incoming: NodeBody["incoming"],
  declared: string | null | undefined,
  limit: number,
): unknown {
  const parsed = incoming.body;
  if (parsed instanceof Uint8Array) {
    // express.raw(): the bytes themselves.
    if (parsed.byteLength > limit) throw tooLarge(limit);
    refuseShort(declared, parsed.byteLength);
    return parseJson([parsed], parsed.byteLength);
  }
  if (parsed !== undefined) return parsed;
  // Nothing was left, which is right only for a request that had no body.
  const chunked = incoming.headers["transfer-encoding"] !== undefined;
  if (!chunked && (declared === null || declared === undefined || Number(declared) === 0)) return undefined;
  throw alreadyRead();
}

function refuseDeclared(declared: string | null | undefined, limit: number): void {
  if (declared !== null && declared !== undefined && Number(declared) > limit) throw tooLarge(limit);
}

/** A body shorter than its declared Content-Length is cut off: an error, never a shorter (or empty) body. */
function refuseShort(declared: string | null | undefined, size: number): void {
  if (declared !== null && declared !== undefined && size < Number(declared)) {
    throw new WorkflowError("INVALID_BODY", `The request body has ${size} of its ${declared} declared bytes`);
  }
}

/** The body's bytes as JSON; nothing (or only white space) reads as `undefined`. */
function parseJson(chunks: Uint8Array[], size: number): unknown {
  if (size === 0) return undefined;
  const bytes = chunks.length === 1 ? (chunks[0] as Uint8Array) : new Uint8Array(size);
  if (chunks.length > 1) {
    let offset = 0;
    for (const c of chunks) {
      bytes.set(c, offset);
      offset += c.byteLength;
    }
  }
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch (cause) {
    throw new WorkflowError("INVALID_JSON", "The request body is not valid UTF-8", { cause });
  }
  if (text.trim() === "") return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch (cause) {
    throw new WorkflowError("INVALID_JSON", "The request body is not valid JSON", { cause });
  }
}

/** The body's chunks from node's request, refused as soon as they pass `limit`. */
function readNode(node: NodeBody, limit: number): Promise<{ chunks: Uint8Array[]; size: number }> {
  const { incoming, outgoing } = node;
  const chunks: Uint8Array[] = [];
  let size = 0;
  if (incoming.readableEnded) return Promise.resolve({ chunks, size });
  return new Promise((resolve, reject) => {
    incoming.on("data", (chunk) => {
      if (size > limit) return;
      size += chunk.byteLength;
      if (size > limit) {
        // Answer 413 and close the connection once it is written; the rest of the body is discarded.
        outgoing.setHeader("connection", "close");
        incoming.removeAllListeners("data");
        incoming.resume();
        reject(tooLarge(limit));
        return;
      }
      chunks.push(chunk);
    });
    let ended = false;
    incoming.on("end", () => {
      ended = true;
      resolve({ chunks, size });
    });
    incoming.on("error", reject);
    // A client gone before the end of its body. Every request closes, so the error (and its stack
    // trace, which costs more than reading a small body) is made only when the body did not end.
    incoming.on("close", () => {
      if (!ended) reject(new WorkflowError("INVALID_JSON", "The request body was cut off"));
    });
  });
}
