import { join } from "node:path";
import { defineEvent, StartEvent, StopEvent, Workflow, WorkflowError } from "eventloom";
import { ClientTimeoutError, WorkflowClient, WorkflowClientError } from "eventloom/client";
import { SqliteStore, type WorkflowServer } from "eventloom/server";
import { FakeClock } from "eventloom/testing";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { z } from "zod";
import { FaultyStore } from "../../support/faulty-store.js";
import { WordGate } from "../../support/word-gate.js";
import { makeServer, tempDir, until } from "../helpers.js";

// Round 2 §2 over a real socket and a real SQLite file: a request sent again with its
// Idempotency-Key is executed once and answered alike, across a restart too.

let dir: ReturnType<typeof tempDir>;
let server: WorkflowServer | null = null;
let store: SqliteStore;
let base: string;

beforeEach(() => {
  dir = tempDir();
});
afterEach(async () => {
  await server?.close();
  server = null;
  dir.remove();
});

async function start(options: Parameters<typeof makeServer>[0] = {}): Promise<void> {
  store = new SqliteStore(join(dir.dir, "workflows.db"));
  server = makeServer({ store, ...options });
  base = (await server.serve({ host: "127.0.0.1", port: 0 })).url;
}

interface Sent {
  status: number;
  text: string;
  body: Record<string, unknown>;
  replayed: string | null;
}

async function post(path: string, key: string | null, body?: unknown): Promise<Sent> {
  const headers: Record<string, string> = {};
  if (key !== null) headers["idempotency-key"] = key;
  if (body !== undefined) headers["content-type"] = "application/json";
  const res = await fetch(`${base}${path}`, {
    method: "POST",
    headers,
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  return {
    status: res.status,
    text,
    body: text ? (JSON.parse(text) as Record<string, unknown>) : {},
    replayed: res.headers.get("idempotent-replayed"),
  };
}

const handlerCount = async () => (await store.listHandlers({ limit: 1000 })).handlers.length;

/** The Pongs a waiting run wrote: one per Ping it took in. */
async function pongs(handlerId: string): Promise<number[]> {
  const events = await store.readEvents(handlerId, -1, 1000);
  return events.filter((e) => e.type === "Pong").map((e) => e.value["n"] as number);
}

describe("Idempotency-Key", () => {
  test("run-nowait sent twice with one key starts one run; the copy gets the same answer, marked replayed", async () => {
    await start();
    const first = await post("/workflows/add/run-nowait", "k-nowait", { start_event: { a: 1, b: 2 } });
    const again = await post("/workflows/add/run-nowait", "k-nowait", { start_event: { a: 1, b: 2 } });
    expect(first.status).toBe(200);
    expect(first.replayed).toBeNull();
    expect(again).toMatchObject({ status: 200, text: first.text, replayed: "true" });
    expect(await handlerCount()).toBe(1);
    // Without a key, every request is a new run.
    await post("/workflows/add/run-nowait", null, { start_event: { a: 1, b: 2 } });
    expect(await handlerCount()).toBe(2);
  });

  test("run-nowait with the handler_id of a finished run and a key continues it once, not on every retry", async () => {
    await start();
    const done = await post("/workflows/counter/run", null, {});
    const id = done.body["handler_id"] as string;
    const first = await post("/workflows/counter/run-nowait", "k-continue", { handler_id: id });
    await expect.poll(async () => (await store.getHandler(id))?.status).toBe("completed");
    const again = await post("/workflows/counter/run-nowait", "k-continue", { handler_id: id });
    expect(again).toMatchObject({ status: 200, text: first.text, replayed: "true" });
    expect((await store.getHandler(id))?.result).toBe(2);
  });

  test("the same key with another body, path or method is a 422 IDEMPOTENCY_KEY_REUSED that changes nothing", async () => {
    await start();
    await post("/workflows/add/run-nowait", "k-reuse", { start_event: { a: 1, b: 2 } });
    for (const [path, body] of [
      ["/workflows/add/run-nowait", { start_event: { a: 1, b: 3 } }],
      ["/workflows/add/run", { start_event: { a: 1, b: 2 } }],
      ["/handlers/x/cancel", undefined],
    ] as const) {
      const res = await post(path, "k-reuse", body);
      expect(res.status, path).toBe(422);
      expect(res.body["code"]).toBe("IDEMPOTENCY_KEY_REUSED");
    }
    expect(await handlerCount()).toBe(1);
  });

  test("a sync run retried while it runs waits for it: one run, both copies get its result", async () => {
    await start();
    const body = { start_event: {} };
    const first = post("/workflows/waiting/run", "k-sync", body);
    await expect.poll(handlerCount).toBe(1);
    const copy = post("/workflows/waiting/run", "k-sync", body);
    const id = (await store.listHandlers({ limit: 1 })).handlers[0]?.handlerId as string;
    await post(`/events/${id}`, null, { event: { type: "Ping", value: { n: 7 } } });
    await post(`/events/${id}`, null, { event: { type: "Finish", value: {} } });
    const [a, b] = await Promise.all([first, copy]);
    expect(a).toMatchObject({ status: 200, replayed: null });
    expect(a.body).toMatchObject({ handler_id: id, status: "completed", result: 7 });
    expect(b).toMatchObject({ status: 200, text: a.text, replayed: "true" });
    expect(await handlerCount()).toBe(1);
    // After the end too, and after a restart.
    await server?.close();
    await start();
    expect(await post("/workflows/waiting/run", "k-sync", body)).toMatchObject({
      text: a.text,
      replayed: "true",
    });
  });

  test("an event sent again with its key is delivered once: the cart gets the item once", async () => {
    await start();
    const { body } = await post("/workflows/waiting/run-nowait", null, {});
    const id = body["handler_id"] as string;
    const ping = { event: { type: "Ping", value: { n: 1 } } };
    const first = await post(`/events/${id}`, "k-event", ping);
    const again = await post(`/events/${id}`, "k-event", ping);
    expect(first).toMatchObject({ status: 200, body: { status: "sent" } });
    expect(again).toMatchObject({ status: 200, text: first.text, replayed: "true" });
    await post(`/events/${id}`, "k-event-2", { event: { type: "Ping", value: { n: 2 } } });
    await expect.poll(() => pongs(id)).toEqual([1, 2]);
  });

  test("cancel and purge with a key answer every copy alike; without one the copy is a 409", async () => {
    await start();
    const a = (await post("/workflows/waiting/run-nowait", null, {})).body["handler_id"] as string;
    const first = await post(`/handlers/${a}/cancel`, "k-cancel");
    expect(first).toMatchObject({ status: 200, body: { status: "cancelled" } });
    expect(await post(`/handlers/${a}/cancel`, "k-cancel")).toMatchObject({ status: 200, replayed: "true" });
    expect(await post(`/handlers/${a}/cancel`, null)).toMatchObject({ status: 409 });
    const purged = await post(`/handlers/${a}/cancel?purge=true`, "k-purge");
    expect(purged).toMatchObject({ status: 200, body: { status: "deleted" } });
    expect(await post(`/handlers/${a}/cancel?purge=true`, "k-purge")).toMatchObject({
      status: 200,
      text: purged.text,
      replayed: "true",
    });
    expect(await store.getHandler(a)).toBeNull();
  });

  test("a final error is answered again (404 stays 404); a malformed key is a 400", async () => {
    await start();
    const first = await post("/events/none", "k-404", { event: { type: "Ping", value: { n: 1 } } });
    expect(first).toMatchObject({ status: 404, body: { code: "HANDLER_NOT_FOUND" } });
    expect(await post("/events/none", "k-404", { event: { type: "Ping", value: { n: 1 } } })).toMatchObject({
      status: 404,
      text: first.text,
      replayed: "true",
    });
    for (const key of ["", "a b", "x".repeat(201), "é"]) {
      const res = await post("/workflows/add/run-nowait", key, { start_event: { a: 1, b: 1 } });
      expect(res.status, JSON.stringify(key)).toBe(400);
      expect(res.body["code"]).toBe("INVALID_IDEMPOTENCY_KEY");
    }
    expect(await handlerCount()).toBe(0);
  });

  test("while the store refuses writes: 503 naming the handler, to the copy too; once it is back, the first answer", async () => {
    const clock = new FakeClock(Date.now());
    const faulty = new FaultyStore(new SqliteStore(join(dir.dir, "faulty.db")));
    server = makeServer({ store: faulty, clock });
    base = (await server.serve({ host: "127.0.0.1", port: 0 })).url;
    faulty.plan({ probability: 1, error: () => new WorkflowError("STORE_UNAVAILABLE", "the disk is full") });
    const body = { start_event: { a: 2, b: 2 } };
    const failed = await post("/workflows/add/run-nowait", "k-outage", body);
    expect(failed.status).toBe(503);
    const handlerId = failed.body["handler_id"] as string;
    expect(handlerId).toEqual(expect.any(String));
    // The writer still holds the handler and its key: the copy is told the same, at once.
    const copy = await post("/workflows/add/run-nowait", "k-outage", body);
    expect(copy).toMatchObject({ status: 503, body: { code: "STORE_UNAVAILABLE", handler_id: handlerId } });
    faulty.plan({});
    await clock.advance(1_000);
    await expect.poll(async () => (await faulty.getIdempotencyKey("k-outage"))?.handlerId).toBe(handlerId);
    const after = await post("/workflows/add/run-nowait", "k-outage", body);
    expect(after).toMatchObject({ status: 200, body: { handler_id: handlerId }, replayed: "true" });
    expect((await faulty.listHandlers({ limit: 10 })).handlers).toHaveLength(1);
  });

  test("a copy that comes while the first is still being written waits, then gets 409 IDEMPOTENCY_KEY_IN_USE", async () => {
    const clock = new FakeClock(Date.now());
    const inner = new SqliteStore(join(dir.dir, "slow.db"));
    let open = () => {};
    const gate = new Promise<void>((resolve) => {
      open = resolve;
    });
    let hold = false;
    // The store's commits wait at the gate while `hold`: a slow disk, not a failing one.
    const slow = new Proxy(inner, {
      get(target, name) {
        if (name === "commit")
          return async (batch: never) =>
            hold ? gate.then(() => target.commit(batch)) : target.commit(batch);
        const value = Reflect.get(target, name) as unknown;
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
    server = makeServer({ store: slow, clock });
    base = (await server.serve({ host: "127.0.0.1", port: 0 })).url;
    hold = true;
    const body = { start_event: { a: 3, b: 3 } };
    const first = post("/workflows/add/run-nowait", "k-slow", body);
    const answered: Sent[] = [];
    void post("/workflows/add/run-nowait", "k-slow", body).then((r) => answered.push(r));
    await until(async () => {
      await clock.advance(500);
      return answered.length > 0;
    });
    expect(answered[0]).toMatchObject({ status: 409, body: { code: "IDEMPOTENCY_KEY_IN_USE" } });
    hold = false;
    open();
    const done = await first;
    expect(done.status).toBe(200);
    expect(await post("/workflows/add/run-nowait", "k-slow", body)).toMatchObject({
      status: 200,
      text: done.text,
      replayed: "true",
    });
  });

  test("keys older than idempotencyTtlMs are forgotten in the background, on the server's clock", async () => {
    const clock = new FakeClock(Date.now());
    await start({ clock, idempotencyTtlMs: 60_000 });
    await post("/workflows/add/run-nowait", "k-old", { start_event: { a: 1, b: 1 } });
    await clock.advance(30_000);
    await post("/workflows/add/run-nowait", "k-young", { start_event: { a: 1, b: 1 } });
    await clock.advance(36_000);
    await expect.poll(() => store.getIdempotencyKey("k-old")).toBeNull();
    expect(await store.getIdempotencyKey("k-young")).not.toBeNull();
    // A forgotten key is a new request.
    await post("/workflows/add/run-nowait", "k-old", { start_event: { a: 1, b: 1 } });
    expect(await handlerCount()).toBe(3);
  });
});

describe("the client", () => {
  test("sends a key on every call that changes something, and the same key on its retries", async () => {
    await start();
    const seen: { path: string; key: string | null }[] = [];
    let drop = 1;
    const client = new WorkflowClient({
      baseUrl: base,
      fetch: async (input, init) => {
        const url = new URL(String(input));
        const key = new Headers(init?.headers).get("idempotency-key");
        seen.push({ path: url.pathname, key });
        const res = await fetch(input, init);
        // The first answer of run-nowait is lost on its way back (the run was started).
        if (url.pathname.endsWith("/run-nowait") && drop-- > 0) throw new TypeError("fetch failed");
        return res;
      },
    });
    const started = await client.runWorkflowNowait("waiting");
    await client.sendEvent(started.handlerId, { type: "Ping", value: { n: 3 } });
    await client.cancelHandler(started.handlerId);
    await client.getHandler(started.handlerId);
    const keys = seen.map((s) => s.key);
    expect(seen.map((s) => s.path)).toEqual([
      "/workflows/waiting/run-nowait",
      "/workflows/waiting/run-nowait",
      `/events/${started.handlerId}`,
      `/handlers/${started.handlerId}/cancel`,
      `/handlers/${started.handlerId}`,
    ]);
    expect(keys[0]).toMatch(/^[0-9a-f]{32}$/);
    expect(keys[1]).toBe(keys[0]);
    expect(new Set(keys.slice(1, 4)).size).toBe(3);
    expect(keys[4]).toBeNull();
    expect(await handlerCount()).toBe(1);
    expect(await pongs(started.handlerId)).toEqual([3]);
  });

  test("takes a key of the caller's own: the same call again answers alike, another call with it is refused", async () => {
    await start();
    const client = new WorkflowClient({ baseUrl: base, retries: 0 });
    const a = await client.runWorkflowNowait("add", { startEvent: { a: 1, b: 1 }, idempotencyKey: "mine" });
    const b = await client.runWorkflowNowait("add", { startEvent: { a: 1, b: 1 }, idempotencyKey: "mine" });
    expect(b).toEqual(a);
    const reused = await client
      .runWorkflowNowait("add", { startEvent: { a: 5, b: 1 }, idempotencyKey: "mine" })
      .catch((e: unknown) => e);
    expect(reused).toBeInstanceOf(WorkflowClientError);
    expect(reused).toMatchObject({ status: 422, code: "IDEMPOTENCY_KEY_REUSED", idempotencyKey: "mine" });
    expect(await handlerCount()).toBe(1);
  });

  test("a sync run the client gave up on carries its key on the ClientTimeoutError; run again with it, it charges once", async () => {
    // The README's recipe: a payment that takes longer than the client waits.
    const Charge = defineEvent("Charge", z.object({ cents: z.number().int() }), { extends: StartEvent });
    const gate = new WordGate();
    let charges = 0;
    const charge = new Workflow({ name: "Charge" }).step(
      "charge",
      { accepts: [Charge], emits: [StopEvent] },
      async (_ctx, ev) => {
        charges++;
        await gate.pass(0);
        return StopEvent.create({ result: `charged ${ev.data.cents}` });
      },
    );
    store = new SqliteStore(join(dir.dir, "workflows.db"));
    server = makeServer({ store });
    server.addWorkflow("charge", charge);
    base = (await server.serve({ host: "127.0.0.1", port: 0 })).url;
    const sent: (string | null)[] = [];
    const client = new WorkflowClient({
      baseUrl: base,
      fetch: (input, init) => {
        sent.push(new Headers(init?.headers).get("idempotency-key"));
        return fetch(input, init);
      },
    });
    const timedOut = await client
      .runWorkflow("charge", { startEvent: { cents: 500 }, timeoutMs: 200 })
      .catch((e: unknown) => e);
    expect(timedOut).toBeInstanceOf(ClientTimeoutError);
    const key = (timedOut as ClientTimeoutError).idempotencyKey;
    expect(key).toMatch(/^[0-9a-f]{32}$/);
    expect(sent).toEqual([key]);
    expect(charges).toBe(1);
    gate.release(1);
    const result = await client.runWorkflow("charge", { startEvent: { cents: 500 }, idempotencyKey: key! });
    expect(result).toMatchObject({ status: "completed", result: "charged 500" });
    expect(charges).toBe(1);
    expect(await handlerCount()).toBe(1);
  });
});
