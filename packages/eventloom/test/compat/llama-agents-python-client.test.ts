// LlamaIndex's Python client cannot be installed here (no PyPI), so its wire exchanges are replayed
// instead: fixtures/llama-agents-client-0.3.7.json holds, method by method, the requests its source
// makes (path, query, JSON body, httpx's headers) and the pydantic model each answer is validated
// with (llama-agents-models.ts). This sends them byte for byte over a socket to our server in the
// llama-agents dialect, reads event streams line by line as the client does, raises where it raises
// (a 4xx/5xx), and checks each answer against the model and the values the scenario expects. The
// list of what is checked is in docs/decisions/0010.
import { request as httpRequest, type IncomingMessage } from "node:http";
import { createInterface } from "node:readline";
import { MemoryStore, WorkflowServer, type WorkflowServerOptions } from "eventloom/server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { greeting, human } from "../support/seed-workflows.js";
import fixture from "./fixtures/llama-agents-client-0.3.7.json" with { type: "json" };
import { EventEnvelopeWithMetadata, MODELS, type ModelName } from "./llama-agents-models.js";

interface Step {
  call: string;
  method: "GET" | "POST";
  path: string;
  query?: string;
  json?: unknown;
  status?: number;
  model?: string;
  answer?: unknown;
  save?: string;
  repeat?: number;
  count?: { atLeast?: number; exactly?: number };
  /**
   * An event stream: the types it yields until the server closes it; `on`: the calls made when an
   * event of a type arrives (as a script's loop over the stream would); `opened`: a call made once
   * the stream is open (another task of the script, while this one waits on the stream).
   */
  stream?: { types: string[]; on?: Record<string, Step | Step[]>; opened?: Step };
}
type Vars = Record<string, string>;

const servers: WorkflowServer[] = [];
afterAll(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function serve(options: WorkflowServerOptions): Promise<string> {
  const server = new WorkflowServer({ store: new MemoryStore(), ...options });
  server.addWorkflow("greet", greeting).addWorkflow("human", human);
  servers.push(server);
  return (await server.serve({ host: "127.0.0.1", port: 0 })).url;
}

/** `value` with every `{name}` in its strings replaced by the saved variable. */
function fill<T>(value: T, vars: Vars): T {
  if (typeof value === "string")
    return value.replace(/\{(\w+)\}/g, (_m, name: string) => vars[name] ?? `{${name}}`) as T;
  if (Array.isArray(value)) return value.map((v) => fill(v, vars)) as T;
  if (typeof value === "object" && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, fill(v, vars)])) as T;
  }
  return value;
}

/** The request as httpx sends it: the fixture's headers, and the JSON body with its type and length. */
function open(base: string, step: Step, vars: Vars): Promise<IncomingMessage> {
  const url = new URL(`${fill(step.path, vars)}${step.query ? `?${fill(step.query, vars)}` : ""}`, base);
  const headers: Record<string, string> = { ...fixture.headers };
  const body = step.json === undefined ? undefined : Buffer.from(JSON.stringify(fill(step.json, vars)));
  if (body) {
    headers["content-type"] = "application/json";
    headers["content-length"] = String(body.length);
  }
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method: step.method, headers }, resolve);
    req.on("error", reject);
    req.end(body);
  });
}

async function readText(res: IncomingMessage): Promise<string> {
  let text = "";
  for await (const chunk of res) text += chunk;
  return text;
}

/** One call: its status (the client raises on 4xx/5xx), its model, its values, what it saves. */
async function call(base: string, step: Step, vars: Vars): Promise<void> {
  if (step.stream) return stream(base, step, vars);
  const res = await open(base, step, vars);
  const text = await readText(res);
  expect([step.call, res.statusCode]).toEqual([step.call, step.status ?? 200]);
  if (!step.model) return;
  const parsed = MODELS[step.model as ModelName].safeParse(JSON.parse(text));
  expect(parsed.error?.issues ?? [], `${step.call}: ${text}`).toEqual([]);
  const body = parsed.data as Record<string, unknown>;
  if (step.answer !== undefined) expect(body).toMatchObject(fill(step.answer, vars) as object);
  if (step.count?.exactly !== undefined)
    expect((body["handlers"] as unknown[]).length).toBe(step.count.exactly);
  if (step.count?.atLeast !== undefined)
    expect((body["handlers"] as unknown[]).length).toBeGreaterThanOrEqual(step.count.atLeast);
  if (step.save) vars[step.save] = body[step.save] as string;
}

/**
 * get_workflow_events: 204 is the end, 404 an error; else each line stripped, `id:` kept as the
 * sequence, each `data:` validated as an EventEnvelopeWithMetadata, until the server closes.
 */
async function stream(base: string, step: Step, vars: Vars): Promise<void> {
  const res = await open(base, step, vars);
  if (step.status === 204 || res.statusCode === 204) {
    expect([step.call, res.statusCode]).toEqual([step.call, step.status ?? 200]);
    res.resume();
    return;
  }
  expect([step.call, res.statusCode]).toEqual([step.call, 200]);
  if (step.stream?.opened) await call(base, step.stream.opened, vars);
  const types: string[] = [];
  let id: string | null = null;
  for await (const line of createInterface({ input: res, crlfDelay: Number.POSITIVE_INFINITY })) {
    const stripped = line.trim();
    if (stripped.startsWith("id:")) id = stripped.slice(3).trim();
    else if (stripped.startsWith("data:")) {
      const parsed = EventEnvelopeWithMetadata.safeParse(JSON.parse(stripped.slice(5).trim()));
      expect(parsed.error?.issues ?? [], stripped).toEqual([]);
      const type = parsed.data?.type as string;
      types.push(type);
      if (id !== null) vars["last_sequence"] = id;
      id = null;
      for (const reply of [step.stream?.on?.[type] ?? []].flat()) await call(base, reply, vars);
    }
  }
  expect([step.call, types]).toEqual([step.call, step.stream?.types]);
}

describe("llama-agents-client 0.3.7's exchanges, replayed against a llama-agents server", () => {
  // One server for every scenario, in order, as one script would run them.
  let base: string;
  beforeAll(async () => {
    base = await serve({ wire: "llama-agents" });
  });

  it.each(fixture.scenarios.map((s) => [s.name, s.steps as Step[]] as const))("%s", async (_name, steps) => {
    const vars: Vars = {};
    for (const step of steps) for (let i = 0; i < (step.repeat ?? 1); i++) await call(base, step, vars);
  });
});

describe("the same exchanges against a seed server", () => {
  it("fail the client's models unless the request chooses llama-agents with X-Workflows-Wire", async () => {
    const base = await serve({ wire: "seed" });
    const nowait = fixture.scenarios[0]?.steps[2] as Step;
    const res = await open(base, nowait, {});
    const body = JSON.parse(await readText(res)) as unknown;
    const issues = MODELS.HandlerData.safeParse(body).error?.issues.map((i) => i.path.join("."));
    expect(issues).toEqual(
      expect.arrayContaining(["status", "error", "result", "updated_at", "completed_at"]),
    );
    // With X-Workflows-Wire, a client configured with that header is answered in its dialect.
    const chosen = await new Promise<IncomingMessage>((resolve, reject) => {
      const req = httpRequest(
        new URL("/workflows/greet/run", base),
        {
          method: "POST",
          headers: {
            ...fixture.headers,
            "content-type": "application/json",
            "x-workflows-wire": "llama-agents",
          },
        },
        resolve,
      );
      req.on("error", reject);
      req.end(JSON.stringify({ start_event: { _data: { name: "John" } }, context: {} }));
    });
    const ran = MODELS.HandlerData.parse(JSON.parse(await readText(chosen)));
    expect(ran.result?.value).toEqual({ result: "Hello, John!" });
  });
});
