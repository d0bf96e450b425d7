import { WorkflowError } from "../core/index.js";

/** The node request and response behind a hono context (`c.env` when node serves it). */
export interface NodeBody {
  incoming: AsyncIterable<Uint8Array> & { resume(): void };
  outgoing: { setHeader(name: string, value: string): void };
}

/** The node request and response behind a hono context, when node serves it. */
export const nodeBody = (env: unknown): NodeBody | undefined => {
  const e = env as Partial<NodeBody> | undefined;
  return e?.incoming && e.outgoing ? { incoming: e.incoming, outgoing: e.outgoing } : undefined;
};

const tooLarge = (limit: number) =>
  new WorkflowError("PAYLOAD_TOO_LARGE", `The request body is larger than ${limit} bytes`);

/**
 * Reads a request's JSON body, counting bytes as they arrive: a body over `limit` is refused as soon
 * as it passes it (chunked bodies without Content-Length included), before it is all buffered.
 * An empty body reads as `undefined`.
 *
 * @throws WorkflowError `PAYLOAD_TOO_LARGE` (413) or `INVALID_JSON` (400).
 */
export async function readJsonBody(request: Request, limit: number, node?: NodeBody): Promise<unknown> {
  const declared = request.headers.get("content-length");
  if (declared !== null && Number(declared) > limit) throw tooLarge(limit);
  const chunks: Uint8Array[] = [];
  let size = 0;
  if (node) {
    // Served by node: read the socket's request directly; a web stream over it costs more than the run.
    for await (const chunk of node.incoming) {
      size += chunk.byteLength;
      if (size > limit) {
        // Answer 413 and close the connection once it is written; the rest of the body is discarded.
        node.outgoing.setHeader("connection", "close");
        node.incoming.resume();
        throw tooLarge(limit);
      }
      chunks.push(chunk);
    }
  } else {
    if (!request.body) return undefined;
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
  }
  if (size === 0) return undefined;
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const c of chunks) {
    bytes.set(c, offset);
    offset += c.byteLength;
  }
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
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
