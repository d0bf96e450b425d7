import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { MemoryStore, WorkflowServer } from "eventloom/server";
import type { Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, describe, expect, test } from "vitest";
import { greeting } from "../../../examples/greeting-server.js";
import { type Browser, launchChromium } from "./support/browser.js";

// A page of another origin (another port on the loopback) in a real Chromium: by default it can
// neither read a run's result nor start a run; with its origin in `corsOrigins` it can do both.

let browser: Browser;
let site: Server;
let siteOrigin: string;
let server: WorkflowServer | null = null;

beforeAll(async () => {
  browser = await launchChromium();
  site = createServer((_req, res) => {
    res.writeHead(200, { "content-type": "text/html" });
    res.end("<!doctype html><title>another site</title>");
  });
  await new Promise<void>((resolve) => site.listen(0, "127.0.0.1", resolve));
  siteOrigin = `http://127.0.0.1:${(site.address() as AddressInfo).port}`;
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await new Promise((resolve) => site?.close(resolve));
});

afterEach(async () => {
  await server?.close();
  server = null;
});

async function startApi(corsOrigins?: string[]): Promise<{ api: string; store: MemoryStore }> {
  const store = new MemoryStore();
  server = new WorkflowServer({ store, token: "", ...(corsOrigins ? { corsOrigins } : {}) });
  server.addWorkflow("greet", greeting);
  const { port } = await server.serve({ host: "127.0.0.1", port: 0 });
  return { api: `http://localhost:${port}`, store };
}

async function sitePage(): Promise<Page> {
  const page = await browser.open(siteOrigin);
  await page.goto(`${siteOrigin}/`);
  return page;
}

/** What the page gets from `fetch` in its own origin: the status and text, or the error's name. */
const tryFetch = (
  page: Page,
  url: string,
  init: { method?: string; headers?: Record<string, string>; body?: string },
) =>
  page.evaluate(
    async ({ url, init }) => {
      try {
        const res = await fetch(url, init);
        return { status: res.status, text: await res.text() };
      } catch (error) {
        return { error: (error as Error).name };
      }
    },
    { url, init },
  );

async function finishedRun(api: string): Promise<string> {
  const res = await fetch(`${api}/workflows/greet/run`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ start_event: { name: "Ada" } }),
  });
  return ((await res.json()) as { handler_id: string }).handler_id;
}

describe("a page of another origin", () => {
  test("by default cannot read a run's result nor start a run, with JSON or as a simple request", async () => {
    const { api, store } = await startApi();
    const id = await finishedRun(api);
    const page = await sitePage();
    expect(await tryFetch(page, `${api}/results/${id}`, {})).toEqual({ error: "TypeError" });
    const json = await tryFetch(page, `${api}/workflows/greet/run-nowait`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ start_event: { name: "Eve" } }),
    });
    expect(json).toEqual({ error: "TypeError" });
    // A simple request needs no preflight: it reaches the server, which refuses it (415).
    await page.evaluate(async (url) => {
      await fetch(url, {
        method: "POST",
        mode: "no-cors",
        headers: { "content-type": "text/plain" },
        body: "{}",
      });
      await fetch(url, { method: "POST", mode: "no-cors" });
    }, `${api}/workflows/greet/run-nowait`);
    expect((await store.listHandlers({ limit: 10 })).handlers.map((h) => h.handlerId)).toEqual([id]);
    await page.close();
  });

  test("by default cannot purge a handler, neither as a simple request nor with a preflight", async () => {
    const { api, store } = await startApi();
    const id = await finishedRun(api);
    const page = await sitePage();
    const purge = `${api}/handlers/${id}/cancel?purge=true`;
    // No type, no body: no preflight; the server refuses a foreign Origin's untyped POST (415).
    await page.evaluate(async (url) => {
      await fetch(url, { method: "POST", mode: "no-cors" });
      await fetch(url, {
        method: "POST",
        mode: "no-cors",
        headers: { "content-type": "text/plain" },
        body: "",
      });
    }, purge);
    const json = await tryFetch(page, purge, {
      method: "POST",
      headers: { "content-type": "application/json", "idempotency-key": "k" },
      body: "{}",
    });
    expect(json).toEqual({ error: "TypeError" });
    expect(await store.getHandler(id)).not.toBeNull();
    await page.close();
  });

  test("with its origin in corsOrigins can read results and start runs", async () => {
    const { api, store } = await startApi([siteOrigin]);
    const id = await finishedRun(api);
    const page = await sitePage();
    const read = await tryFetch(page, `${api}/results/${id}`, {});
    expect(read).toMatchObject({ status: 200 });
    expect(JSON.parse((read as { text: string }).text)).toMatchObject({ result: "Hello, Ada!" });
    const started = await tryFetch(page, `${api}/workflows/greet/run-nowait`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ start_event: { name: "Eve" } }),
    });
    expect(started).toMatchObject({ status: 200 });
    expect((await store.listHandlers({ limit: 10 })).handlers).toHaveLength(2);
    await page.close();
  });
});
