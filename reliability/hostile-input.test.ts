// Hostile input: property-based fuzzing of every endpoint's path, query and body. Every answer is a
// success or a 4xx with a clear `detail` and `code`, never a 5xx; afterwards the server is healthy
// and the handlers it already had are intact and still work.

import { WorkflowClient } from "eventloom/client";
import { MemoryStore, WorkflowServer } from "eventloom/server";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { answerFor, ask, retry, tortureAdditionalEvents } from "./fixtures/torture-workflows.js";
import { reportFigures } from "./support/figures.js";
import { SEED, sized } from "./support/mode.js";

const IN_PROCESS_RUNS = sized(400, 8000);
const SOCKET_RUNS = sized(60, 1000);
const BODY_LIMIT = 64 * 1024;

// Routes with `{id}` / `{name}` slots; every method the API answers plus a few it does not.
const ROUTES: [string, string][] = [
  ["GET", "/health"],
  ["GET", "/workflows"],
  ["GET", "/openapi.json"],
  ["POST", "/workflows/{name}/run"],
  ["POST", "/workflows/{name}/run-nowait"],
  ["GET", "/workflows/{name}/schema"],
  ["GET", "/workflows/{name}/events"],
  ["GET", "/workflows/{name}/representation"],
  ["GET", "/results/{id}"],
  ["GET", "/events/{id}"],
  ["POST", "/events/{id}"],
  ["GET", "/handlers"],
  ["GET", "/handlers/{id}"],
  ["POST", "/handlers/{id}/cancel"],
  ["PUT", "/handlers/{id}"],
  ["DELETE", "/events/{id}"],
  ["PATCH", "/workflows/{name}/run"],
];

const deep = (depth: number) => `${"[".repeat(depth)}${"]".repeat(depth)}`;
const deepObject = (depth: number) => `${'{"a":'.repeat(depth)}1${"}".repeat(depth)}`;

const segment = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom("completed", "waiting", "retry", "ask") },
  fc.string(),
  fc.string({ unit: "grapheme", maxLength: 40 }),
  fc.string({ unit: "binary", maxLength: 40 }),
  fc.constantFrom(
    "..",
    "../..",
    "a/b",
    "..%2F..%2Fetc%2Fpasswd",
    "%2e%2e",
    "%00",
    "\\..\\",
    "__proto__",
    "constructor",
    "prototype",
    "completed",
    "waiting",
    "retry",
    "ask",
    "x".repeat(5000),
    "🙂",
    "\u202e",
  ),
);

const queryValue = fc.oneof(
  fc.string({ maxLength: 30 }),
  fc.constantFrom(
    "true",
    "false",
    "-1",
    "now",
    "1e309",
    "-2",
    "NaN",
    "9007199254740993",
    "0x10",
    "",
    "[]",
    "{}",
  ),
);
const query = fc.array(
  fc.tuple(
    fc.oneof(
      fc.constantFrom(
        "sse",
        "include_internal",
        "include_qualified_name",
        "after_sequence",
        "acquire_timeout",
        "limit",
        "cursor",
        "status",
        "workflow_name",
        "purge",
        "__proto__",
      ),
      fc.string({ maxLength: 10 }),
    ),
    queryValue,
  ),
  { maxLength: 5 },
);

const protoKeys = fc.constantFrom(
  '{"__proto__":{"polluted":"yes"}}',
  '{"constructor":{"prototype":{"polluted":"yes"}}}',
  '{"start_event":{"__proto__":{"polluted":"yes"},"n":1}}',
  '{"event":{"type":"Answer","value":{"__proto__":{"polluted":"yes"},"text":"x"}}}',
  '{"start_event":{"constructor":{"prototype":{"polluted":"yes"}}}}',
  '{"context":{"__proto__":{"status":"running"},"store":{"__proto__":{"polluted":"yes"}}}}',
);

const fieldValue = fc.oneof(
  fc.jsonValue({ maxDepth: 3 }),
  fc.constantFrom(
    "",
    "{}",
    '{"type":"Answer","value":{"text":"hi"}}',
    '{"type":"AskInput","value":{"n":1}}',
    { type: "Answer", value: { text: 5 } },
    { type: "Nope", value: {} },
    { __is_pydantic: true, value: { text: "x" }, qualified_name: "__main__.Answer" },
    { n: "one" },
    { n: 1, failures: 99 },
    { status: "running", version: 1 },
  ),
);

const structured = fc
  .record(
    {
      start_event: fieldValue,
      context: fieldValue,
      handler_id: fc.oneof(segment, fc.jsonValue({ maxDepth: 1 })),
      event: fieldValue,
      step: fc.oneof(fc.string(), fc.jsonValue({ maxDepth: 1 })),
    },
    { requiredKeys: [] },
  )
  .map((o) => JSON.stringify(o));

const body = fc.oneof(
  { weight: 4, arbitrary: structured },
  { weight: 2, arbitrary: fc.json({ maxDepth: 4 }) },
  { weight: 2, arbitrary: fc.string() },
  { weight: 1, arbitrary: protoKeys },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      deep(20_000),
      deepObject(20_000),
      `{"start_event":${deep(5_000)}}`,
      `{"event":{"type":"Answer","value":{"text":${deepObject(3_000)}}}}`,
      `"${"x".repeat(BODY_LIMIT + 10)}"`,
      "null",
      "[]",
      "123",
      '"a string"',
      "{",
      "\uFEFF{}",
      '{"a":1}garbage',
    ),
  },
  { weight: 1, arbitrary: fc.constant(undefined) },
);

const request = fc.record({
  route: fc.constantFrom(...ROUTES),
  id: segment,
  encode: fc.boolean(),
  query,
  body,
  contentType: fc.constantFrom("application/json", "text/plain", "application/x-www-form-urlencoded", null),
});
type FuzzRequest = typeof request extends fc.Arbitrary<infer T> ? T : never;

function toRequest(base: string, r: FuzzRequest): Request | null {
  const [method, template] = r.route;
  // Legitimate requests that must not be made: a sync run that waits for an answer forever, and
  // cancelling the handlers whose survival the last test checks.
  if (template.endsWith("/run") && r.id === "ask") return null;
  if (template.endsWith("/cancel") && (r.id === "completed" || r.id === "waiting")) return null;
  const slot = r.encode ? encodeURIComponent(r.id) : r.id;
  const path = template.replace("{id}", slot).replace("{name}", slot);
  const search = new URLSearchParams(r.query).toString();
  const headers: Record<string, string> = {};
  if (r.contentType) headers["content-type"] = r.contentType;
  try {
    return new Request(`${base}${path}${search ? `?${search}` : ""}`, {
      method,
      headers,
      body: method === "GET" || method === "HEAD" ? undefined : r.body,
    });
  } catch {
    return null; // not even a valid URL: nothing a client could send
  }
}

let server: WorkflowServer;
let url: string;
const polluted = () =>
  Object.keys(Object.prototype).length > 0 || ({} as Record<string, unknown>)["polluted"] !== undefined;

beforeAll(async () => {
  server = new WorkflowServer({ store: new MemoryStore(), bodyLimitBytes: BODY_LIMIT, idleReleaseMs: 200 });
  server
    .addWorkflow("retry", retry)
    .addWorkflow("ask", ask, { additionalEvents: [...tortureAdditionalEvents.ask] });
  url = (await server.serve({ host: "127.0.0.1", port: 0 })).url;
  const client = new WorkflowClient({ baseUrl: url });
  await client.runWorkflow("retry", { handlerId: "completed", startEvent: { n: 5, failures: 0 } });
  await client.runWorkflowNowait("ask", { handlerId: "waiting", startEvent: { n: 9 } });
});
afterAll(async () => server?.close());

/** Checks one answer; returns its status. */
async function check(res: Response, what: string): Promise<number> {
  expect(res.status, what).toBeLessThan(500);
  if (res.status >= 400) {
    const text = await res.text();
    let parsed: unknown;
    expect(() => {
      parsed = JSON.parse(text);
    }, `${what}: JSON error body`).not.toThrow();
    const err = parsed as { detail?: unknown; code?: unknown };
    expect(
      typeof err.detail === "string" && err.detail.length > 0,
      `${what}: detail in ${text.slice(0, 200)}`,
    ).toBe(true);
    expect(err.code, what).toMatch(/^[A-Z_]+$/);
  } else {
    await res.body?.cancel();
  }
  return res.status;
}

describe("hostile input", () => {
  const statuses = new Map<number, number>();
  const count = (status: number) => statuses.set(status, (statuses.get(status) ?? 0) + 1);

  it("fuzzed paths, queries and bodies in process: never a 5xx, always a clear 4xx detail", async () => {
    await fc.assert(
      fc.asyncProperty(request, async (r) => {
        const req = toRequest("http://localhost", r);
        if (!req) return;
        count(await check(await server.fetch(req), `${req.method} ${req.url.slice(0, 200)}`));
      }),
      { numRuns: IN_PROCESS_RUNS, seed: SEED, endOnFailure: true },
    );
    expect(polluted(), "Object.prototype untouched").toBe(false);
  }, 120_000);

  it("fuzzed requests over a real socket: never a 5xx, the connection always answered", async () => {
    await fc.assert(
      fc.asyncProperty(request, async (r) => {
        const req = toRequest(url, r);
        if (!req) return;
        const res = await fetch(req, { signal: AbortSignal.timeout(10_000) });
        count(await check(res, `${req.method} ${req.url.slice(0, 200)}`));
      }),
      { numRuns: SOCKET_RUNS, seed: SEED + 1, endOnFailure: true },
    );
  }, 120_000);

  it("stays healthy and keeps the handlers it had: results intact, the waiting run still answerable", async () => {
    const client = new WorkflowClient({ baseUrl: url });
    expect(await client.isHealthy()).toBe(true);
    expect(await client.listWorkflows()).toEqual(["retry", "ask"]);
    expect((await client.getResult("completed")).result).toEqual({ kind: "retry", n: 5, triple: 15 });
    const waiting = await client.getResult("waiting");
    // a fuzzed answer may have reached it (its text is any string): then it ended; else answer it now
    if (waiting.status === "running") {
      await client.sendEvent("waiting", { type: "Answer", value: { text: answerFor(9) } });
      for await (const ev of client.getWorkflowEvents("waiting")) if (ev.type === "StopEvent") break;
      expect((await client.getResult("waiting")).result).toEqual({ kind: "ask", n: 9, answer: answerFor(9) });
    } else {
      expect(waiting.status).toBe("completed");
    }
    const fresh = await client.runWorkflow("retry", { startEvent: { n: 1, failures: 1 } });
    expect(fresh.result).toEqual({ kind: "retry", n: 1, triple: 3 });
    expect(polluted()).toBe(false);
    reportFigures("hostile-input", {
      seed: SEED,
      requests_in_process: IN_PROCESS_RUNS,
      requests_over_socket: SOCKET_RUNS,
      statuses: [...statuses]
        .sort(([a], [b]) => a - b)
        .map(([s, n]) => `${s}:${n}`)
        .join(" "),
      server_errors: 0,
    });
  });
});
