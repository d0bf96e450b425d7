import { afterEach, describe, expect, test } from "vitest";
import { call, callJson, envelopes, makeServer, readNdjson, readSse } from "./helpers.js";

let server: ReturnType<typeof makeServer>;
afterEach(async () => server?.close());

const nowait = async (name: string, body: Record<string, unknown> = {}) =>
  (await callJson<{ handler_id: string }>(server, "POST", `/workflows/${name}/run-nowait`, body)).body
    .handler_id;

const send = (id: string, event: unknown, step?: string) =>
  callJson(server, "POST", `/events/${id}`, step === undefined ? { event } : { event, step });

describe("GET /events/{id}", () => {
  test("SSE frames carry the sequence as id and the envelope as data, ending after the stop event", async () => {
    server = makeServer();
    const id = await nowait("greet", { start_event: { name: "Ada" } });
    const res = await call(server, "GET", `/events/${id}`);
    expect(res.headers.get("content-type")).toContain("text/event-stream");
    const frames = await readSse(res);
    const evs = envelopes(frames);
    expect(evs.map((e) => e.type)).toEqual(["StreamEvent", "StreamEvent", "StreamEvent", "StopEvent"]);
    expect(frames.filter((f) => f.data).map((f) => Number(f.id))).toEqual(evs.map((e) => e.sequence));
    expect(evs[3]).toMatchObject({
      value: { result: "Hello, Ada!" },
      qualified_name: "workflows.events.StopEvent",
      types: ["workflows.events.Event", "workflows.events.StopEvent"],
    });
    expect(evs[0]).toMatchObject({ value: { sequence: 0 }, qualified_name: "StreamEvent" });
  });

  test("NDJSON with sse=false; internal events only with include_internal; no qualified_name on request", async () => {
    server = makeServer();
    const id = await nowait("greet");
    const plain = await call(server, "GET", `/events/${id}?sse=false`);
    expect(plain.headers.get("content-type")).toContain("application/x-ndjson");
    const visible = await readNdjson(plain);
    expect(visible.every((e) => !e.type.startsWith("StepState"))).toBe(true);
    const all = await readNdjson(await call(server, "GET", `/events/${id}?sse=false&include_internal=true`));
    expect(all.map((e) => e.type)).toContain("StepStateChanged");
    expect(all.map((e) => e.sequence)).toEqual(all.map((_, i) => i));
    const bare = await readNdjson(
      await call(server, "GET", `/events/${id}?sse=false&include_qualified_name=false`),
    );
    expect(bare.every((e) => e.qualified_name === undefined)).toBe(true);
  });

  test("after_sequence and Last-Event-ID resume after the cursor; acquire_timeout is ignored", async () => {
    server = makeServer();
    const id = await nowait("greet");
    const all = await readNdjson(await call(server, "GET", `/events/${id}?sse=false&include_internal=true`));
    const cut = all[4]?.sequence as number;
    const after = await readNdjson(
      await call(
        server,
        "GET",
        `/events/${id}?sse=false&include_internal=true&after_sequence=${cut}&acquire_timeout=1.5`,
      ),
    );
    expect(after).toEqual(all.slice(5));
    const resumed = envelopes(
      await readSse(
        await call(server, "GET", `/events/${id}?include_internal=true&after_sequence=0`, undefined, {
          "Last-Event-ID": String(cut),
        }),
      ),
    );
    expect(resumed).toEqual(all.slice(5));
  });

  test("204 when the run has ended and nothing is left after the cursor", async () => {
    server = makeServer();
    const run = await callJson<{ handler_id: string }>(server, "POST", "/workflows/add/run", {
      start_event: { a: 1, b: 2 },
    });
    const id = run.body.handler_id;
    const all = await readNdjson(await call(server, "GET", `/events/${id}?sse=false`));
    const last = all[all.length - 1]?.sequence as number;
    expect((await call(server, "GET", `/events/${id}?after_sequence=${last}`)).status).toBe(204);
    expect((await call(server, "GET", `/events/${id}?after_sequence=now`)).status).toBe(204);
  });

  test("bad cursors are 400, unknown handlers 404", async () => {
    server = makeServer();
    const id = await nowait("waiting");
    for (const q of ["after_sequence=-2", "after_sequence=abc", "sse=maybe"]) {
      expect((await call(server, "GET", `/events/${id}?${q}`)).status, q).toBe(400);
    }
    const bad = await callJson(server, "GET", `/events/${id}`, undefined, { "Last-Event-ID": "x" });
    expect(bad).toMatchObject({ status: 400, body: { code: "INVALID_CURSOR" } });
    expect((await call(server, "GET", "/events/unknown")).status).toBe(404);
  });

  test("several readers of one run see identical sequences", async () => {
    server = makeServer();
    const id = await nowait("waiting");
    const readers = [1, 2, 3, 4].map(async () =>
      readNdjson(await call(server, "GET", `/events/${id}?sse=false&include_internal=true`)),
    );
    for (let n = 0; n < 5; n++) expect((await send(id, { type: "Ping", value: { n } })).status).toBe(200);
    await send(id, { type: "Finish", value: {} });
    const seen = await Promise.all(readers);
    for (const s of seen) expect(s).toEqual(seen[0]);
    const pongs = (seen[0] ?? []).filter((e) => e.type === "Pong").map((e) => e.value["n"]);
    expect(pongs.sort()).toEqual([0, 1, 2, 3, 4]);
    expect(seen[0]?.at(-1)?.type).toBe("StopEvent");
  });

  test("a stream ends when its handler is purged", async () => {
    server = makeServer();
    const id = await nowait("waiting");
    const reading = call(server, "GET", `/events/${id}?sse=false`).then((r) => r.text());
    await callJson(server, "POST", `/handlers/${id}/cancel?purge=true`);
    await expect(reading).resolves.toBeTypeOf("string");
  });

  test("after_sequence=now streams only what comes after the request", async () => {
    server = makeServer();
    const id = await nowait("waiting");
    await send(id, { type: "Ping", value: { n: 1 } });
    const before = await readNdjson(
      await call(server, "GET", `/events/${id}?sse=false&include_internal=true&after_sequence=-1`).then(
        async (r) => {
          // the run is still going: read until the first Pong only
          return new Response(await firstLines(r, (l) => l.includes('"Pong"')));
        },
      ),
    );
    const nowStream = call(server, "GET", `/events/${id}?sse=false&after_sequence=now`);
    const res = await nowStream;
    await send(id, { type: "Ping", value: { n: 2 } });
    await send(id, { type: "Finish", value: {} });
    const after = await readNdjson(res);
    expect(before.some((e) => e.type === "Pong" && e.value["n"] === 1)).toBe(true);
    expect(after.map((e) => [e.type, e.value["n"]])).toEqual([
      ["Pong", 2],
      ["StopEvent", undefined],
    ]);
  });
});

/** Reads NDJSON lines until one matches, then cancels the stream. */
async function firstLines(res: Response, stop: (line: string) => boolean): Promise<string> {
  const reader = (res.body as ReadableStream<Uint8Array>).getReader();
  const decoder = new TextDecoder();
  let text = "";
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    text += decoder.decode(value, { stream: true });
    if (text.split("\n").some(stop)) {
      await reader.cancel();
      break;
    }
  }
  return text;
}

describe("POST /events/{id}", () => {
  test("human in the loop: the request event is streamed, the answer finishes the run", async () => {
    server = makeServer();
    const id = await nowait("human");
    const res = await call(server, "GET", `/events/${id}`);
    const frames = await readSse(res, (fs) => envelopes(fs).some((e) => e.type === "RequestEvent"));
    const request = envelopes(frames).find((e) => e.type === "RequestEvent");
    expect(request?.value).toEqual({ prompt: "What is your name?" });
    expect(request?.types).toContain("workflows.events.InputRequiredEvent");
    const sent = await send(id, { type: "ResponseEvent", value: { response: "Ada" } });
    expect(sent).toMatchObject({ status: 200, body: { status: "sent" } });
    const rest = envelopes(
      await readSse(
        await call(server, "GET", `/events/${id}`, undefined, { "Last-Event-ID": String(request?.sequence) }),
      ),
    );
    expect(rest.at(-1)).toMatchObject({ type: "OutEvent", value: { output: "Hello, Ada" } });
    const result = await callJson(server, "GET", `/results/${id}`);
    expect(result.body).toMatchObject({ status: "completed", result: { output: "Hello, Ada" } });
  });

  test("accepts the seed's pydantic form and a step target", async () => {
    server = makeServer();
    const id = await nowait("human");
    const res = await send(
      id,
      { __is_pydantic: true, value: { response: "Bo" }, qualified_name: "__main__.ResponseEvent" },
      "greet_human",
    );
    expect(res.status).toBe(200);
    const evs = await readNdjson(await call(server, "GET", `/events/${id}?sse=false`));
    expect(evs.at(-1)?.value).toEqual({ output: "Hello, Bo" });
  });

  test("resolves a waitForEvent with an additional event", async () => {
    server = makeServer();
    const id = await nowait("approval");
    const frames = await readSse(await call(server, "GET", `/events/${id}`), (fs) =>
      envelopes(fs).some((e) => e.type === "AskApproval"),
    );
    expect(envelopes(frames).at(-1)?.type).toBe("AskApproval");
    expect((await send(id, { type: "Approval", value: { approved: true } })).status).toBe(200);
    const evs = await readNdjson(await call(server, "GET", `/events/${id}?sse=false`));
    expect(evs.at(-1)?.value).toEqual({ result: "approved" });
  });

  test("400 for an unknown event, an invalid value, an unknown step, a step that rejects it; bad bodies", async () => {
    server = makeServer();
    const id = await nowait("waiting");
    expect(await send(id, { type: "Nope", value: {} })).toMatchObject({
      status: 400,
      body: { code: "UNKNOWN_EVENT" },
    });
    const invalid = await send(id, { type: "Ping", value: { n: "x" } });
    expect(invalid).toMatchObject({ status: 400, body: { code: "VALIDATION_ERROR" } });
    expect((invalid.body["issues"] as { path: string }[])[0]?.path).toBe("event.value.n");
    expect(await send(id, { type: "Ping", value: { n: 1 } }, "nope")).toMatchObject({
      status: 400,
      body: { code: "UNKNOWN_STEP" },
    });
    expect(await send(id, { type: "Ping", value: { n: 1 } }, "finish")).toMatchObject({
      status: 400,
      body: { code: "STEP_REJECTS_EVENT" },
    });
    for (const body of [{}, { event: 5 }, { event: {} }, "[1,2]"]) {
      const res = await callJson(server, "POST", `/events/${id}`, body);
      expect(res.status, JSON.stringify(body)).toBe(400);
    }
    expect((await callJson(server, "POST", `/events/${id}`, "{oops")).body["code"]).toBe("INVALID_JSON");
  });

  test("404 for an unknown handler, 409 once the run has ended", async () => {
    server = makeServer();
    expect((await send("nope", { type: "Ping", value: { n: 1 } })).status).toBe(404);
    const run = await callJson<{ handler_id: string }>(server, "POST", "/workflows/human/run-nowait", {});
    const id = run.body.handler_id;
    await send(id, { type: "ResponseEvent", value: { response: "x" } });
    await readNdjson(await call(server, "GET", `/events/${id}?sse=false`));
    expect(await send(id, { type: "ResponseEvent", value: { response: "y" } })).toMatchObject({
      status: 409,
      body: { code: "HANDLER_ENDED" },
    });
  });

  test("concurrent sends to the same handler are all applied, each once", async () => {
    server = makeServer();
    const id = await nowait("waiting");
    const answers = await Promise.all(
      Array.from({ length: 50 }, (_, n) => send(id, { type: "Ping", value: { n } })),
    );
    expect(answers.every((a) => a.status === 200)).toBe(true);
    await send(id, { type: "Finish", value: {} });
    const evs = await readNdjson(await call(server, "GET", `/events/${id}?sse=false`));
    const pongs = evs.filter((e) => e.type === "Pong").map((e) => e.value["n"] as number);
    expect(pongs.sort((a, b) => a - b)).toEqual(Array.from({ length: 50 }, (_, n) => n));
  });

  test("an event sent to one handler never touches another", async () => {
    server = makeServer();
    const a = await nowait("waiting");
    const b = await nowait("waiting");
    await send(a, { type: "Finish", value: {} });
    await readNdjson(await call(server, "GET", `/events/${a}?sse=false`));
    expect((await callJson(server, "GET", `/results/${b}`)).status).toBe(202);
  });
});
