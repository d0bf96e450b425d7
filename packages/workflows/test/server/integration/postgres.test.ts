import pg from "pg";
import { afterEach, expect, test } from "vitest";
import { PostgresStore } from "../../../src/stores/postgres/index.js";
import { call, callJson, makeServer, readNdjson } from "../helpers.js";

const URL = process.env["WORKFLOWS_TEST_PG"] ?? "postgres://postgres@127.0.0.1:5432/postgres";

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
