import { afterEach, expect, test } from "vitest";
import { callJson, call, makeServer, readNdjson } from "./helpers.js";

let server: ReturnType<typeof makeServer>;
afterEach(async () => server?.close());

test("smoke", async () => {
  server = makeServer();
  const h = await callJson(server, "GET", "/health");
  expect(h.status).toBe(200);
  const r = await callJson(server, "POST", "/workflows/greet/run", { start_event: { name: "Ada" } });
  expect(r.body).toMatchObject({ status: "completed", result: "Hello, Ada!" });
  const n = await callJson<{ handler_id: string }>(server, "POST", "/workflows/greet/run-nowait", {});
  const ev = await readNdjson(await call(server, "GET", `/events/${n.body.handler_id}?sse=false`));
  expect(ev.map((e) => e.type)).toEqual(["StreamEvent", "StreamEvent", "StreamEvent", "StopEvent"]);
});
