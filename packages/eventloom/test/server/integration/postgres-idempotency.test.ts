import { afterEach, describe, expect, test } from "vitest";
import { PostgresStore } from "../../../src/stores/postgres/index.js";
import { useFreshDatabase } from "../../support/fresh-database.js";
import { call, callJson, makeServer, readNdjson } from "../helpers.js";

// Round 2 §2 across server processes sharing one Postgres database: any process replays the answer
// another gave to a key, and a key sent to two processes at once is executed once.

const db = useFreshDatabase("wf_idem");

const servers: ReturnType<typeof makeServer>[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close();
});

let schemaCount = 0;
function twoServers(): {
  a: ReturnType<typeof makeServer>;
  b: ReturnType<typeof makeServer>;
  store: PostgresStore;
} {
  const schema = `idem_${schemaCount++}`;
  const store = new PostgresStore(db.url, { schema });
  const a = makeServer({ store });
  const b = makeServer({ store: new PostgresStore(db.url, { schema }) });
  servers.push(a, b);
  return { a, b, store };
}

const keyed = (key: string) => ({ "idempotency-key": key });

async function send(
  server: ReturnType<typeof makeServer>,
  path: string,
  key: string,
  body: unknown = {},
): Promise<{ status: number; text: string; replayed: string | null }> {
  const res = await call(server, "POST", path, body, keyed(key));
  return { status: res.status, text: await res.text(), replayed: res.headers.get("idempotent-replayed") };
}

async function handlers(store: PostgresStore): Promise<string[]> {
  return (await store.listHandlers({ limit: 1000 })).handlers.map((h) => h.handlerId);
}

describe("Idempotency-Key on Postgres, across processes", () => {
  test("a key used on one process is replayed by another: same status, same body, one handler", async () => {
    const { a, b, store } = twoServers();
    const first = await send(a, "/workflows/add/run-nowait", "k1", { start_event: { a: 1, b: 2 } });
    const again = await send(b, "/workflows/add/run-nowait", "k1", { start_event: { a: 1, b: 2 } });
    expect(first.status).toBe(200);
    expect(again).toEqual({ status: 200, text: first.text, replayed: "true" });
    const other = await send(b, "/workflows/add/run-nowait", "k1", { start_event: { a: 9, b: 2 } });
    expect(other.status).toBe(422);
    expect(await handlers(store)).toHaveLength(1);
  });

  test("a sync run retried on another process while it runs waits for it and gets the same answer", async () => {
    const { a, b, store } = twoServers();
    const first = send(a, "/workflows/waiting/run", "k-sync");
    await expect.poll(async () => (await handlers(store)).length).toBe(1);
    const copy = send(b, "/workflows/waiting/run", "k-sync");
    const [id] = await handlers(store);
    await callJson(a, "POST", `/events/${id}`, { event: { type: "Ping", value: { n: 4 } } });
    await callJson(b, "POST", `/events/${id}`, { event: { type: "Finish", value: {} } });
    const [x, y] = await Promise.all([first, copy]);
    expect(x.status).toBe(200);
    expect(JSON.parse(x.text)).toMatchObject({ handler_id: id, status: "completed", result: 4 });
    expect(y).toEqual({ status: 200, text: x.text, replayed: "true" });
  });

  test("an event sent through a process that does not run the handler, then again through its owner, is delivered once", async () => {
    const { a, b, store } = twoServers();
    const { body } = await callJson<{ handler_id: string }>(a, "POST", "/workflows/waiting/run-nowait", {});
    const id = body.handler_id;
    const ping = { event: { type: "Ping", value: { n: 1 } } };
    expect((await send(b, `/events/${id}`, "k-event", ping)).status).toBe(200);
    expect(await send(a, `/events/${id}`, "k-event", ping)).toMatchObject({ status: 200, replayed: "true" });
    // The owner takes the inbox item in when it hears of it: finish once the Ping was taken in.
    const pongs = async () => (await store.readEvents(id, -1, 100)).filter((e) => e.type === "Pong").length;
    await expect.poll(pongs).toBe(1);
    await callJson(a, "POST", `/events/${id}`, { event: { type: "Finish", value: {} } });
    const events = await readNdjson(await call(a, "GET", `/events/${id}?sse=false`));
    expect(events.at(-1)).toMatchObject({ type: "StopEvent", value: { result: 1 } });
    expect(events.filter((e) => e.type === "Pong")).toHaveLength(1);
    expect(await handlers(store)).toEqual([id]);
  });

  test("one key sent to two processes at the same moment starts one run; both answers are the same", async () => {
    const { a, b, store } = twoServers();
    // Both pools warm, so that neither process's first look-up waits for a new connection.
    for (const server of [a, b]) {
      await Promise.all(Array.from({ length: 4 }, () => callJson(server, "GET", "/handlers")));
    }
    const answers: [Awaited<ReturnType<typeof send>>, Awaited<ReturnType<typeof send>>][] = [];
    for (let i = 0; i < 8; i++) {
      const body = { start_event: { a: i, b: 1 } };
      answers.push(
        await Promise.all([
          send(a, "/workflows/add/run-nowait", `race-${i}`, body),
          send(b, "/workflows/add/run-nowait", `race-${i}`, body),
        ]),
      );
    }
    for (const [x, y] of answers) {
      expect(x.status).toBe(200);
      expect(y.status).toBe(200);
      expect(y.text).toBe(x.text);
    }
    // Every handler that exists was acknowledged: none is left over from the loser of a race.
    const acknowledged = new Set(
      answers.map(([x]) => (JSON.parse(x.text) as { handler_id: string }).handler_id),
    );
    await expect.poll(async () => (await handlers(store)).sort()).toEqual([...acknowledged].sort());
  });
});
