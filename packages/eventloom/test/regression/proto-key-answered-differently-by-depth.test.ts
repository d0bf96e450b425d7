import { afterEach, expect, test } from "vitest";
import { callJson, makeServer } from "../server/helpers.js";

// `__proto__` at the top of `start_event` was silently dropped (the run started) while one level
// deeper it was a 400 INVALID_BODY: the whole body is now checked once, FORBIDDEN_KEY at any depth.

let server: ReturnType<typeof makeServer>;
afterEach(async () => server?.close());

test("__proto__ at the top of start_event and one level deeper get the same 400 FORBIDDEN_KEY", async () => {
  server = makeServer();
  const top = await callJson(
    server,
    "POST",
    "/workflows/greet/run",
    '{"start_event":{"__proto__":{"name":"x"}}}',
  );
  const deeper = await callJson(
    server,
    "POST",
    "/workflows/greet/run",
    '{"start_event":{"name":"a","x":{"__proto__":{}}}}',
  );
  expect(top).toMatchObject({ status: 400, body: { code: "FORBIDDEN_KEY" } });
  expect(deeper).toMatchObject({ status: 400, body: { code: "FORBIDDEN_KEY" } });
  const list = await callJson<{ handlers: unknown[] }>(server, "GET", "/handlers");
  expect(list.body.handlers).toHaveLength(0);
});
