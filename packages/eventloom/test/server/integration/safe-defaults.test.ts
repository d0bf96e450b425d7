import { fileURLToPath } from "node:url";
import { type EventDefinition, StopEvent, Workflow } from "eventloom";
import { MemoryStore, WorkflowServer, type WorkflowServerOptions } from "eventloom/server";
import { afterEach, describe, expect, test } from "vitest";
import { z } from "zod";
import { post, raw } from "../../support/raw-http.js";
import { makeServer, until } from "../helpers.js";

// Round 2 §3 and §4 over a real socket: what a server on a developer's machine refuses by default.

let server: WorkflowServer;
afterEach(async () => server?.close());

async function start(options: WorkflowServerOptions = {}): Promise<number> {
  server = makeServer(options);
  return (await server.serve({ host: "127.0.0.1", port: 0 })).port;
}

describe("Host check (DNS rebinding)", () => {
  test("a Host that is not localhost, an IP literal or an allowed name is a 403 HOST_NOT_ALLOWED, on API and UI", async () => {
    const port = await start();
    for (const path of ["/workflows", "/", "/health"]) {
      const res = await raw(
        port,
        `GET ${path} HTTP/1.1\r\nHost: evil.example:${port}\r\nConnection: close\r\n\r\n`,
      );
      expect(res.status, path).toBe(403);
      expect(res.text).toContain('"code":"HOST_NOT_ALLOWED"');
    }
    for (const host of [
      "localhost",
      `localhost:${port}`,
      "app.localhost",
      `127.0.0.1:${port}`,
      `[::1]:${port}`,
      "10.1.2.3",
    ]) {
      const res = await raw(port, `GET /workflows HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`);
      expect(res.status, host).toBe(200);
    }
  });

  test("allowedHosts opens a name, and * any", async () => {
    let port = await start({ allowedHosts: ["Box.Lan"] });
    expect(
      (await raw(port, "GET /workflows HTTP/1.1\r\nHost: box.lan:80\r\nConnection: close\r\n\r\n")).status,
    ).toBe(200);
    expect(
      (await raw(port, "GET /workflows HTTP/1.1\r\nHost: other.lan\r\nConnection: close\r\n\r\n")).status,
    ).toBe(403);
    await server.close();
    port = await start({ allowedHosts: ["*"] });
    expect(
      (await raw(port, "GET /workflows HTTP/1.1\r\nHost: other.lan\r\nConnection: close\r\n\r\n")).status,
    ).toBe(200);
  });

  test("server.fetch gets the same check", async () => {
    server = makeServer();
    const res = await server.fetch(new Request("http://rebound.example/workflows"));
    expect(res.status).toBe(403);
    expect(((await res.json()) as { code: string }).code).toBe("HOST_NOT_ALLOWED");
  });
});

describe("Content-Type of a POST", () => {
  test("a body sent as text/plain or a form is a 415 UNSUPPORTED_MEDIA_TYPE and starts nothing", async () => {
    const store = new MemoryStore();
    const port = await start({ store });
    for (const type of [
      "text/plain",
      "application/x-www-form-urlencoded",
      "multipart/form-data; boundary=x",
    ]) {
      const res = await raw(
        port,
        post(
          "/workflows/greet/run-nowait",
          `Host: localhost\r\nContent-Type: ${type}\r\n`,
          '{"start_event":{}}',
        ),
      );
      expect(res.status, type).toBe(415);
      expect(res.text).toContain('"code":"UNSUPPORTED_MEDIA_TYPE"');
    }
    expect((await store.listHandlers({ limit: 10 })).handlers).toHaveLength(0);
  });

  test("application/json with a charset is accepted; no Content-Type is accepted only without a body", async () => {
    const port = await start();
    const typed = await raw(
      port,
      post(
        "/workflows/greet/run-nowait",
        "Host: localhost\r\nContent-Type: Application/JSON; charset=utf-8\r\n",
        "{}",
      ),
    );
    expect(typed.status).toBe(200);
    const bare = await raw(port, post("/workflows/greet/run-nowait", "Host: localhost\r\n"));
    expect(bare.status).toBe(200);
    const untyped = await raw(port, post("/workflows/greet/run-nowait", "Host: localhost\r\n", "{}"));
    expect(untyped.status).toBe(415);
    // A page of another origin cannot post without a type either (no preflight would stop it).
    const crossSite = await raw(
      port,
      post("/workflows/greet/run-nowait", "Host: localhost\r\nOrigin: http://evil.example\r\n"),
    );
    expect(crossSite.status).toBe(415);
  });

  test("a body shorter than its Content-Length is a 400, never an empty body", async () => {
    const store = new MemoryStore();
    const port = await start({ store });
    const res = await raw(
      port,
      "POST /workflows/greet/run-nowait HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 50\r\n\r\n{}",
      true,
    );
    expect(res.status).toBe(400);
    // A Request handed to server.fetch by a framework may declare more than it carries.
    const short = await server.fetch(
      new Request("http://localhost/workflows/greet/run-nowait", {
        method: "POST",
        headers: { "content-type": "application/json", "content-length": "50" },
        body: "{}",
      }),
    );
    expect(short.status).toBe(400);
    expect((await store.listHandlers({ limit: 10 })).handlers).toHaveLength(0);
  });
});

describe("headers", () => {
  test("JSON, SSE and NDJSON answers carry nosniff; the debugger's page a CSP of its own origin, not framable", async () => {
    const port = await start();
    const base = `http://127.0.0.1:${port}`;
    expect((await fetch(`${base}/workflows`)).headers.get("x-content-type-options")).toBe("nosniff");
    const { handler_id } = (await (
      await fetch(`${base}/workflows/waiting/run-nowait`, { method: "POST" })
    ).json()) as { handler_id: string };
    for (const query of ["", "?sse=false"]) {
      const stream = await fetch(`${base}/events/${handler_id}${query}`);
      expect(stream.headers.get("x-content-type-options"), query).toBe("nosniff");
      await stream.body?.cancel();
    }
    const page = await fetch(`${base}/`);
    const csp = page.headers.get("content-security-policy") ?? "";
    expect(csp).toContain("default-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toContain("unsafe-inline");
  });
});

describe("request bodies (§3)", () => {
  test("__proto__, constructor and prototype keys are a 400 FORBIDDEN_KEY at any depth, the same everywhere", async () => {
    const port = await start();
    const bodies = [
      '{"start_event":{"__proto__":{"x":1}}}',
      '{"start_event":{"name":"a","deep":{"__proto__":{"x":1}}}}',
      '{"constructor":{"prototype":{"x":1}}}',
      '{"start_event":{"name":[{"prototype":1}]}}',
    ];
    for (const body of bodies) {
      const res = await raw(
        port,
        post("/workflows/greet/run", "Host: localhost\r\nContent-Type: application/json\r\n", body),
      );
      expect(res.status, body).toBe(400);
      expect(res.text).toContain('"code":"FORBIDDEN_KEY"');
    }
    const event = '{"event":{"type":"ResponseEvent","value":{"__proto__":{}}}}';
    const sent = await raw(
      port,
      post("/events/none", "Host: localhost\r\nContent-Type: application/json\r\n", event),
    );
    expect(sent.text).toContain('"code":"FORBIDDEN_KEY"');
  });

  test("a context is refused unless the server accepts contexts: 400 CONTEXT_NOT_ACCEPTED", async () => {
    server = makeServer();
    const res = await server.fetch(
      new Request("http://localhost/workflows/human/run-nowait", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ context: forged({ deadline: null }) }),
      }),
    );
    expect(res.status).toBe(400);
    expect(((await res.json()) as { code: string }).code).toBe("CONTEXT_NOT_ACCEPTED");
  });

  test("an accepted context cannot lift the deadline and its events must fit their schemas", async () => {
    const store = new MemoryStore();
    server = makeServer({ store, acceptContext: true });
    const send = (context: unknown) =>
      server.fetch(
        new Request("http://localhost/workflows/human/run-nowait", {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ context }),
        }),
      );
    const before = Date.now();
    for (const deadline of [null, before + 10 * 365 * 86_400_000]) {
      const res = await send(forged({ deadline }));
      expect(res.status).toBe(200);
      const { handler_id } = (await res.json()) as { handler_id: string };
      let state: { deadline: number | null } | null = null;
      await until(async () => {
        state = await store.loadState(handler_id);
        return state !== null;
      });
      // human's timeout is 1000 s: the deadline is no later than now + 1000 s.
      expect(state!.deadline).not.toBeNull();
      expect(state!.deadline!).toBeLessThanOrEqual(Date.now() + 1_000_000);
    }
    const bad = forged({ deadline: null });
    (bad["unclaimed"] as unknown[]).push({
      type: "ResponseEvent",
      qualifiedName: "ResponseEvent",
      data: { response: 7 },
    });
    const res = await send(bad);
    expect(res.status).toBe(400);
    const body = (await res.json()) as { code: string; issues: { path: string }[] };
    expect(body.code).toBe("VALIDATION_ERROR");
    expect(body.issues[0]?.path).toMatch(/^context\.unclaimed\.0\.data/);
  });
});

describe("the forged approval of issue 14, over a raw socket", () => {
  // The attack: a context whose waiter is already answered (approved: true), whose start data breaks
  // the schema (amount -1000000 where it must be > 0) and whose deadline is lifted (null). On the
  // seed's terms it completed "approved"; the same start event sent normally is a 400.
  const root = fileURLToPath(new URL("../../../../../", import.meta.url));
  const ExpenseData = z.object({ item: z.string().optional(), amount: z.number() });
  type ApprovalExample = {
    approval: Workflow;
    ExpenseInput: EventDefinition<typeof ExpenseData>;
    ApprovalRequested: EventDefinition<z.ZodObject<{ question: z.ZodString }>>;
    Approval: EventDefinition<z.ZodObject<{ approved: z.ZodBoolean }>>;
  };
  const example = () => import(`${root}examples/approval.ts`) as Promise<ApprovalExample>;

  /** The example's step, on a workflow with a state schema: what a forged `store` must fit. */
  async function audited(): Promise<Workflow> {
    const { ExpenseInput, ApprovalRequested, Approval } = await example();
    return new Workflow({
      name: "AuditedApproval",
      timeout: 3600,
      state: z.object({ reviews: z.number().int().nonnegative().default(0) }),
    }).step(
      "review",
      { accepts: [ExpenseInput], emits: [ApprovalRequested, StopEvent], waitsFor: [Approval] },
      async (ctx, ev) => {
        const answer = await ctx.waitForEvent(Approval, {
          waiterEvent: ApprovalRequested.create({ question: `Approve $${ev.data.amount}?` }),
        });
        return StopEvent.create({ result: answer.data.approved ? "approved" : "rejected" });
      },
    ) as unknown as Workflow;
  }

  async function serverWith(options: WorkflowServerOptions): Promise<{ port: number; store: MemoryStore }> {
    const store = new MemoryStore();
    server = new WorkflowServer({ store, token: "", ...options });
    server.addWorkflow("approval", (await example()).approval);
    server.addWorkflow("audited", await audited());
    return { port: (await server.serve({ host: "127.0.0.1", port: 0 })).port, store };
  }

  const send = (port: number, path: string, body: unknown) =>
    raw(port, post(path, "Host: localhost\r\nContent-Type: application/json\r\n", JSON.stringify(body)));
  const bodyOf = (text: string) =>
    JSON.parse(text.slice(text.indexOf("\r\n\r\n") + 4)) as Record<string, unknown>;

  /**
   * A real state of `name` waiting for its Approval (taken from a run on a scratch server), forged:
   * the waiter answered, the start data out of its schema, no deadline, and `store` when given.
   */
  async function forgedApproval(
    name: string,
    store?: Record<string, unknown>,
  ): Promise<Record<string, unknown>> {
    const { port, store: scratch } = await serverWith({});
    const started = await send(port, `/workflows/${name}/run-nowait`, { start_event: { amount: 5 } });
    expect(started.status).toBe(200);
    const id = bodyOf(started.text)["handler_id"] as string;
    let state: Record<string, unknown> | null = null;
    await until(async () => {
      state = (await scratch.loadState(id)) as Record<string, unknown> | null;
      return Object.keys((state?.["waiters"] as object | undefined) ?? {}).length > 0;
    });
    await server.close();
    const forged = structuredClone(state!) as Record<string, unknown> & {
      waiters: Record<string, { answer: unknown; item: { event: { data: Record<string, unknown> } } }>;
    };
    for (const waiter of Object.values(forged.waiters)) {
      waiter.answer = { type: "Approval", qualifiedName: "Approval", data: { approved: true } };
      waiter.item.event.data["amount"] = -1_000_000;
    }
    forged["deadline"] = null;
    forged["runId"] = "forged";
    if (store) forged["store"] = store;
    return forged;
  }

  test("by default the context is refused: 400 CONTEXT_NOT_ACCEPTED, nothing run or stored", async () => {
    const context = await forgedApproval("approval");
    const { port, store } = await serverWith({});
    for (const path of ["/workflows/approval/run", "/workflows/approval/run-nowait"]) {
      const res = await send(port, path, { context });
      expect(res.status, path).toBe(400);
      expect(bodyOf(res.text)["code"]).toBe("CONTEXT_NOT_ACCEPTED");
    }
    // The same start data sent normally is refused by its schema too.
    const plain = await send(port, "/workflows/approval/run", { start_event: { amount: -1_000_000 } });
    expect(plain.status).toBe(400);
    expect(bodyOf(plain.text)["code"]).toBe("VALIDATION_ERROR");
    expect((await store.listHandlers({ limit: 10 })).handlers).toEqual([]);
  });

  test("with acceptContext the forged context is refused by the event schema, nothing run or stored", async () => {
    const context = await forgedApproval("approval");
    const { port, store } = await serverWith({ acceptContext: true });
    for (const path of ["/workflows/approval/run", "/workflows/approval/run-nowait"]) {
      const res = await send(port, path, { context });
      expect(res.status, path).toBe(400);
      const body = bodyOf(res.text) as { code: string; issues: { path: string }[] };
      expect(body.code).toBe("VALIDATION_ERROR");
      // The start data held by the answered waiter's step: its amount breaks `> 0`.
      expect(body.issues.map((i) => i.path)).toContainEqual(
        expect.stringMatching(/^context\..*\.data\.amount$/),
      );
    }
    expect((await store.listHandlers({ limit: 10 })).handlers).toEqual([]);
  });

  test("with acceptContext a forged store that breaks the state schema is refused, nothing run or stored", async () => {
    const context = await forgedApproval("audited", { reviews: -3 });
    // Only the state is wrong here: the start data is put back within its schema.
    for (const waiter of Object.values(
      context["waiters"] as Record<string, { item: { event: { data: Record<string, unknown> } } }>,
    ))
      waiter.item.event.data["amount"] = 5;
    const { port, store } = await serverWith({ acceptContext: true });
    const res = await send(port, "/workflows/audited/run", { context });
    expect(res.status).toBe(400);
    const body = bodyOf(res.text) as { code: string; issues: { path: string }[] };
    expect(body.code).toBe("VALIDATION_ERROR");
    expect(body.issues.map((i) => i.path)).toContainEqual(expect.stringMatching(/^context\.store\.reviews$/));
    expect((await store.listHandlers({ limit: 10 })).handlers).toEqual([]);
  });
});

describe("warning line", () => {
  test("serving on a non-loopback address without a token warns once, through the logger", async () => {
    const warnings: string[] = [];
    server = makeServer();
    await server.serve({
      host: "0.0.0.0",
      port: 0,
      logger: { info() {}, error() {}, warn: (m) => warnings.push(m) },
    });
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/open to the network/);
    expect(warnings[0]).toContain("WORKFLOWS_SERVER_TOKEN");
    await server.close();
    warnings.length = 0;
    server = makeServer({ token: "secret" });
    await server.serve({
      host: "0.0.0.0",
      port: 0,
      logger: { info() {}, error() {}, warn: (m) => warnings.push(m) },
    });
    await server.close();
    server = makeServer();
    await server.serve({
      host: "127.0.0.1",
      port: 0,
      logger: { info() {}, error() {}, warn: (m) => warnings.push(m) },
    });
    expect(warnings).toHaveLength(0);
  });
});

/** A serialized running state of the `human` workflow with nothing to do, and `overrides`. */
function forged(overrides: Record<string, unknown>): Record<string, unknown> {
  return {
    version: 1,
    workflowName: "HumanInTheLoopWorkflow",
    runId: "forged",
    status: "running",
    startedAt: Date.now(),
    deadline: null,
    nextSequence: 0,
    nextItemId: 0,
    queues: {},
    inFlight: {},
    retries: {},
    collected: {},
    waiters: {},
    unclaimed: [],
    store: {},
    idle: false,
    outcome: null,
    ...overrides,
  };
}
