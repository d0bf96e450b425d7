// Requests written byte by byte on a socket: what no HTTP client sends (a body shorter than its
// Content-Length, a Host of another site), to see what the server answers.
import { connect } from "node:net";

/** Sends raw bytes, half-closes when `end`, and resolves with the status and the whole answer. */
export function raw(port: number, request: string, end = false): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1");
    let text = "";
    socket.on("data", (d) => {
      text += d.toString();
      // One answer is enough: close once its body (by Content-Length) is in.
      const head = text.indexOf("\r\n\r\n");
      const length = /content-length: (\d+)/i.exec(text)?.[1];
      if (head >= 0 && length !== undefined && text.length >= head + 4 + Number(length)) socket.destroy();
    });
    socket.on("close", () => resolve({ status: Number(text.slice(9, 12)), text }));
    socket.on("error", reject);
    socket.write(request);
    if (end) socket.end();
  });
}

/** A POST with `headers` (each ending in CRLF) and its body's true Content-Length. */
export const post = (path: string, headers: string, body = "") =>
  `POST ${path} HTTP/1.1\r\n${headers}Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`;
