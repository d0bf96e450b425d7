import { afterEach, describe, expect, test } from "vitest";
import { callJson, makeServer, until } from "./helpers.js";

let server: ReturnType<typeof makeServer>;
afterEach(async () => server?.close());

interface HandlerData {
  handler_id: string;
  workflow_name: string;
  status: string;
  result: unknown;
  error: string | null;
  completed_at: string | null;
}

const nowait = async (name: string, body: Record<string, unknown> = {}) =>
  (await callJson<{ handler_id: string }>(server, "POST", `/workflows/${name}/run-nowait`, body)).body
    .handler_id;

describe("GET /results/{id}", () => {
  test("202 with HandlerData while running, 200 once ended", async () => {
    server = makeServer();
    const id = await nowait("waiting");
    expect((await callJson<HandlerData>(server, "GET", `/results/${id}`)).status).toBe(202);
    await callJson(server, "POST", `/events/${id}`, { event: { type: "Finish", value: {} } });
    // the stream ends after the terminal event: then the result is there
    const stream = await server.fetch(new Request(`http://localhost/events/${id}?sse=false`));
    await stream.text();
    const res = await callJson<HandlerData>(server, "GET", `/results/${id}`);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ status: "completed", result: null });
  });

  test("200 for a failed handler too (any terminal status)", async () => {
    server = makeServer();
    const run = await callJson<HandlerData>(server, "POST", "/workflows/failing/run", {});
    const res = await callJson<HandlerData>(server, "GET", `/results/${run.body.handler_id}`);
    expect(res).toMatchObject({
      status: 200,
      body: { status: "failed", error: 'Step "explode" failed after 1 attempt(s): Error: boom' },
    });
  });

  test("404 for an unknown handler", async () => {
    server = makeServer();
    expect(await callJson(server, "GET", "/results/nope")).toMatchObject({
      status: 404,
      body: { code: "HANDLER_NOT_FOUND" },
    });
  });
});

describe("GET /handlers and /handlers/{id}", () => {
  test("lists handlers newest first, filtered by status and workflow_name, paged by cursor", async () => {
    server = makeServer();
    const done: string[] = [];
    for (let i = 0; i < 5; i++) {
      done.push(
        (await callJson<HandlerData>(server, "POST", "/workflows/add/run", { start_event: { a: i, b: 0 } }))
          .body.handler_id,
      );
    }
    const waitingId = await nowait("waiting");
    const all = await callJson<{ handlers: HandlerData[]; next_cursor: string | null }>(
      server,
      "GET",
      "/handlers",
    );
    expect(all.body.handlers).toHaveLength(6);
    expect(all.body.next_cursor).toBeNull();

    const running = await callJson<{ handlers: HandlerData[] }>(server, "GET", "/handlers?status=running");
    expect(running.body.handlers.map((h) => h.handler_id)).toEqual([waitingId]);
    const both = await callJson<{ handlers: HandlerData[] }>(
      server,
      "GET",
      "/handlers?status=running&status=completed&workflow_name=add",
    );
    expect(both.body.handlers).toHaveLength(5);

    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: { body: { handlers: HandlerData[]; next_cursor: string | null } } = await callJson(
        server,
        "GET",
        `/handlers?workflow_name=add&limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`,
      );
      expect(page.body.handlers.length).toBeLessThanOrEqual(2);
      seen.push(...page.body.handlers.map((h) => h.handler_id));
      cursor = page.body.next_cursor;
    } while (cursor);
    expect(new Set(seen)).toEqual(new Set(done));
    expect(seen).toHaveLength(5);
  });

  test("a bad filter, limit or cursor is a 400", async () => {
    server = makeServer();
    for (const query of ["status=weird", "limit=0", "limit=1001", "limit=x"]) {
      const res = await callJson(server, "GET", `/handlers?${query}`);
      expect(res.status, query).toBe(400);
      expect(res.body["code"]).toBe("INVALID_QUERY");
    }
    const res = await callJson(server, "GET", "/handlers?cursor=garbage!!");
    expect(res).toMatchObject({ status: 400, body: { code: "INVALID_CURSOR" } });
  });

  test("GET /handlers/{id} gives any handler's data, 404 for unknown", async () => {
    server = makeServer();
    const id = await nowait("waiting");
    expect((await callJson(server, "GET", `/handlers/${id}`)).body).toMatchObject({
      handler_id: id,
      status: "running",
    });
    expect((await callJson(server, "GET", "/handlers/unknown")).status).toBe(404);
  });
});

describe("POST /handlers/{id}/cancel", () => {
  test("cancels a running handler: status cancelled, a WorkflowCancelledEvent ends its stream", async () => {
    server = makeServer();
    const id = await nowait("waiting");
    const res = await callJson(server, "POST", `/handlers/${id}/cancel`);
    expect(res).toMatchObject({ status: 200, body: { status: "cancelled" } });
    const record = await callJson<HandlerData>(server, "GET", `/results/${id}`);
    expect(record.body).toMatchObject({ status: "cancelled" });
    expect(record.body.completed_at).not.toBeNull();
    const events = await (await server.fetch(new Request(`http://localhost/events/${id}?sse=false`))).text();
    const last = JSON.parse(events.trim().split("\n").pop() as string) as { type: string };
    expect(last.type).toBe("WorkflowCancelledEvent");
  });

  test("a sync run that gets cancelled answers 500 with status cancelled", async () => {
    server = makeServer();
    const pending = callJson<HandlerData>(server, "POST", "/workflows/waiting/run", { handler_id: "sync-c" });
    // the handler is recorded once the run started; cancel it as soon as it exists
    let cancelled = await callJson(server, "POST", "/handlers/sync-c/cancel");
    await until(async () => {
      if (cancelled.status === 404) cancelled = await callJson(server, "POST", "/handlers/sync-c/cancel");
      return cancelled.status !== 404;
    });
    expect(cancelled.status).toBe(200);
    const res = await pending;
    expect(res).toMatchObject({ status: 500, body: { status: "cancelled" } });
  });

  test("an ended handler: 409 without purge, deleted with purge", async () => {
    server = makeServer();
    const run = await callJson<HandlerData>(server, "POST", "/workflows/add/run", {
      start_event: { a: 1, b: 1 },
    });
    const id = run.body.handler_id;
    expect(await callJson(server, "POST", `/handlers/${id}/cancel`)).toMatchObject({
      status: 409,
      body: { code: "HANDLER_ENDED" },
    });
    expect(await callJson(server, "POST", `/handlers/${id}/cancel?purge=true`)).toMatchObject({
      status: 200,
      body: { status: "deleted" },
    });
    expect((await callJson(server, "GET", `/handlers/${id}`)).status).toBe(404);
    expect((await callJson(server, "GET", `/events/${id}`)).status).toBe(404);
  });

  test("purge of a running handler cancels it and deletes everything", async () => {
    server = makeServer();
    const id = await nowait("waiting");
    expect((await callJson(server, "POST", `/handlers/${id}/cancel?purge=true`)).body).toEqual({
      status: "deleted",
    });
    expect((await callJson(server, "GET", `/results/${id}`)).status).toBe(404);
    const list = await callJson<{ handlers: HandlerData[] }>(server, "GET", "/handlers");
    expect(list.body.handlers.map((h) => h.handler_id)).not.toContain(id);
  });

  test("404 for an unknown handler, 400 for a bad purge value", async () => {
    server = makeServer();
    expect((await callJson(server, "POST", "/handlers/nope/cancel")).status).toBe(404);
    const id = await nowait("waiting");
    expect((await callJson(server, "POST", `/handlers/${id}/cancel?purge=maybe`)).status).toBe(400);
  });
});
