import type { EventFeed } from "../event-stream.js";

const encoder = new TextEncoder();

/** A feed as a web stream of UTF-8 bytes (what `fetch` answers with). */
export function feedToWebStream(feed: EventFeed): { body: ReadableStream<Uint8Array>; end(): void } {
  let controllerRef: ReadableStreamDefaultController<Uint8Array> | null = null;
  let closed = false;
  const close = () => {
    if (closed) return;
    closed = true;
    try {
      controllerRef?.close();
    } catch {
      // the reader went away first
    }
  };
  const body = new ReadableStream<Uint8Array>(
    {
      start(controller) {
        controllerRef = controller;
      },
      async pull(controller) {
        try {
          const text = await feed.next();
          if (closed) return;
          if (text === null) close();
          else controller.enqueue(encoder.encode(text));
        } catch (error) {
          if (!closed) {
            closed = true;
            controller.error(error);
          }
        }
      },
      cancel() {
        closed = true;
        feed.end();
      },
    },
    { highWaterMark: 0 },
  );
  return {
    body,
    end() {
      feed.end();
      close();
    },
  };
}

/**
 * Writes a feed to node's response as it comes, waiting for the socket to drain when the reader is
 * slow: strings go to the socket as they are, without a web stream or an encoder in between. The
 * response must have its head written. Resolves when the stream is over (or the reader left).
 */
export async function pipeFeedToNode(feed: EventFeed, response: NodeSink): Promise<void> {
  const gone = () => feed.end();
  response.on("close", gone);
  try {
    for (;;) {
      const text = await feed.next();
      if (text === null || response.destroyed || response.writableEnded) break;
      if (!response.write(text)) {
        await new Promise<void>((resolve) => {
          const done = () => {
            response.off("drain", done);
            response.off("close", done);
            resolve();
          };
          response.on("drain", done);
          response.on("close", done);
        });
      }
    }
    if (!response.writableEnded) response.end();
  } catch {
    // The store failed mid-stream: the reader sees the connection cut, not a clean end.
    response.destroy();
  } finally {
    response.off("close", gone);
  }
}

/** What pipeFeedToNode needs of node's ServerResponse. */
export interface NodeSink {
  write(text: string): boolean;
  end(): void;
  destroy(): void;
  readonly destroyed: boolean;
  readonly writableEnded: boolean;
  on(event: "drain" | "close", listener: () => void): unknown;
  off(event: "drain" | "close", listener: () => void): unknown;
}
