import pg from "pg";
import { afterEach, expect, test } from "vitest";
import { PostgresStore } from "../../../src/stores/postgres/index.js";
import { ADMIN_URL } from "../../support/postgres-url.js";
import { call, callJson, makeServer, readNdjson } from "../helpers.js";

const URL = ADMIN_URL;

const servers: ReturnType<typeof makeServer>[] = [];
const schemas: string[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close();
  const client = new pg.Client({ connectionString: URL });
  await client.connect();
  for (const schema of schemas.splice(0)) await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  await client.end();
});

test("a reader on another server sharing the Postgres store sees the run's events live", async () => {
  const schema = `wf_server_${process.pid}_${Date.now()}`;
  schemas.push(schema);
  const owner = makeServer({ store: new PostgresStore(URL, { schema }) });
  const reader = makeServer({ store: new PostgresStore(URL, { schema }) });
  servers.push(owner, reader);
  await callJson(reader, "GET", "/health");
  const { body } = await callJson<{ handler_id: string }>(owner, "POST", "/workflows/waiting/run-nowait", {});
  const id = body.handler_id;
  expect((await callJson(reader, "GET", `/results/${id}`)).status).toBe(202);
  const streamed = call(reader, "GET", `/events/${id}?sse=false`).then(readNdjson);
  for (let n = 0; n < 3; n++) {
    expect(
      (await callJson(owner, "POST", `/events/${id}`, { event: { type: "Ping", value: { n } } })).status,
    ).toBe(200);
  }
  await callJson(owner, "POST", `/events/${id}`, { event: { type: "Finish", value: {} } });
  const events = await streamed;
  expect(events.filter((e) => e.type === "Pong").map((e) => e.value["n"])).toEqual([0, 1, 2]);
  expect(events.at(-1)).toMatchObject({ type: "StopEvent", value: { result: 2 } });
  expect((await callJson(reader, "GET", `/results/${id}`)).body).toMatchObject({
    status: "completed",
    result: 2,
  });
});

function twoServers(): [ReturnType<typeof makeServer>, ReturnType<typeof makeServer>] {
  const schema = `wf_server_${process.pid}_${Date.now()}_${Math.floor(Math.random() * 1e6)}`;
  schemas.push(schema);
  const a = makeServer({ store: new PostgresStore(URL, { schema }) });
  const b = makeServer({ store: new PostgresStore(URL, { schema }) });
  servers.push(a, b);
  return [a, b];
}

test("an event sent to a server that does not run the handler reaches the one that does", async () => {
  const [owner, other] = twoServers();
  await callJson(other, "GET", "/health");
  const { body } = await callJson<{ handler_id: string }>(owner, "POST", "/workflows/waiting/run-nowait", {});
  const id = body.handler_id;
  const sent = await callJson(other, "POST", `/events/${id}`, { event: { type: "Ping", value: { n: 5 } } });
  expect(sent).toMatchObject({ status: 200, body: { status: "sent" } });
  expect(other.liveRunCount).toBe(0);
  await callJson(other, "POST", `/events/${id}`, { event: { type: "Finish", value: {} } });
  const events = await readNdjson(await call(other, "GET", `/events/${id}?sse=false`));
  expect(events.at(-1)).toMatchObject({ type: "StopEvent" });
  expect(events.filter((e) => e.type === "Pong").map((e) => e.value["n"])).toEqual([5]);
  expect(other.liveRunCount).toBe(0);
});

test("a cancel sent to another server cancels the handler where it runs", async () => {
  const [owner, other] = twoServers();
  await callJson(other, "GET", "/health");
  const { body } = await callJson<{ handler_id: string }>(owner, "POST", "/workflows/waiting/run-nowait", {});
  expect((await callJson(other, "POST", `/handlers/${body.handler_id}/cancel`)).status).toBe(200);
  const events = await readNdjson(await call(other, "GET", `/events/${body.handler_id}?sse=false`));
  expect(events.at(-1)?.type).toBe("WorkflowCancelledEvent");
});

test("after its owner shut down, another server takes the handler over when an event arrives", async () => {
  const [owner, other] = twoServers();
  await callJson(other, "GET", "/health");
  const { body } = await callJson<{ handler_id: string }>(owner, "POST", "/workflows/waiting/run-nowait", {});
  await owner.close();
  await callJson(other, "POST", `/events/${body.handler_id}`, { event: { type: "Ping", value: { n: 1 } } });
  expect(other.liveRunCount).toBe(1);
  await callJson(other, "POST", `/events/${body.handler_id}`, { event: { type: "Finish", value: {} } });
  const events = await readNdjson(
    await call(other, "GET", `/events/${body.handler_id}?sse=false&include_internal=true`),
  );
  expect(events.map((e) => e.sequence)).toEqual(events.map((_, i) => i));
  expect(events.at(-1)).toMatchObject({ type: "StopEvent", value: { result: 1 } });
});
