// Regression: a chunked request body over the size limit got its connection destroyed instead of a
// 413. Since 8976d79 (bodies read from the node request), `readJsonBody` called `incoming.destroy()`
// when the limit is passed; that destroys the socket, so the 413 `PAYLOAD_TOO_LARGE` answer the HTTP
// contract promises is never written: the client sees a reset ("socket hang up"), with no detail.
// Found by reliability/slow-clients.test.ts (an endless chunked body).
//
// Fixed: the rest of the body is discarded and the 413 is answered with `Connection: close`.
import { connect } from "node:net";
import { MemoryStore, WorkflowServer } from "eventloom/server";
import { afterEach, describe, expect, it } from "vitest";
import { human } from "../server/fixtures.js";

let server: WorkflowServer | undefined;
afterEach(async () => server?.close());

describe("regression: an oversized chunked body", () => {
  it("is answered 413 PAYLOAD_TOO_LARGE, not with a reset connection", async () => {
    server = new WorkflowServer({ store: new MemoryStore(), bodyLimitBytes: 1024 });
    server.addWorkflow("human", human);
    const { port } = await server.serve({ host: "127.0.0.1", port: 0 });
    const answer = await new Promise<string>((resolve) => {
      let received = "";
      const socket = connect({ host: "127.0.0.1", port }, () => {
        socket.write(
          "POST /workflows/human/run-nowait HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n",
        );
        const chunk = `400\r\n${" ".repeat(0x400)}\r\n`;
        for (let i = 0; i < 8; i++) socket.write(chunk); // 8 KiB, never terminated
      });
      socket.setEncoding("latin1");
      socket.on("data", (d: string) => {
        received += d;
      });
      socket.on("error", () => {});
      socket.on("close", () => resolve(received));
      socket.setTimeout(10_000, () => socket.destroy());
    });
    expect(answer).toMatch(/^HTTP\/1\.1 413 /);
    expect(answer).toContain("PAYLOAD_TOO_LARGE");
  });
});
