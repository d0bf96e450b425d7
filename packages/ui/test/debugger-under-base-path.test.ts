import { rm } from "node:fs/promises";
import type { AddressInfo } from "node:net";
import { createAdaptorServer } from "@hono/node-server";
import { MemoryStore, WorkflowServer } from "eventloom/server";
import { Hono } from "hono";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { greeting } from "../../../examples/greeting-server.js";
import { type Browser, launchChromium } from "./support/browser.js";
import { buildUi } from "./support/ui-build.js";

// The debugger's production build in a real Chromium, served by a server mounted in a Hono app under
// /api/workflows as docs/EMBEDDING.md mounts it: opened at the base path with and without its
// trailing slash, every file and API call it makes stays under the base path and succeeds.

const BASE = "/api/workflows";

let uiDir: string;
let browser: Browser;
let server: WorkflowServer;
let http: ReturnType<typeof createAdaptorServer>;
let origin: string;

beforeAll(async () => {
  uiDir = await buildUi();
  browser = await launchChromium();
  server = new WorkflowServer({ store: new MemoryStore(), uiDir, token: "", basePath: BASE });
  server.addWorkflow("greet", greeting);
  const app = new Hono();
  app.mount(BASE, server.fetch, { replaceRequest: false });
  app.get("/", (c) => c.text("my app"));
  http = createAdaptorServer({ fetch: app.fetch });
  await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
  origin = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
  if ("closeAllConnections" in http) http.closeAllConnections();
  await new Promise((resolve) => http?.close(resolve));
  if (uiDir) await rm(uiDir, { recursive: true, force: true });
});

/** A tab that records every request it makes and every answer of 400 or more. */
async function open(): Promise<{ page: Page; requested: string[]; failed: string[] }> {
  const page = await browser.open(origin);
  const requested: string[] = [];
  const failed: string[] = [];
  page.on("request", (request) => {
    if (!request.url().startsWith("data:")) requested.push(request.url());
  });
  page.on("response", (response) => {
    if (response.status() >= 400) failed.push(`${response.status()} ${response.url()}`);
  });
  page.on("requestfailed", (request) => {
    // An event stream the page itself let go (a reload, a run's stream once the run ended) is aborted.
    const why = request.failure()?.errorText ?? "";
    if (why !== "net::ERR_ABORTED") failed.push(`${why} ${request.url()}`);
  });
  return { page, requested, failed };
}

describe("the debugger under a base path", { timeout: 90_000 }, () => {
  for (const slash of ["", "/"]) {
    it(`opened at ${BASE}${slash}: loads, runs a workflow and reloads, every request under ${BASE}/`, async () => {
      const { page, requested, failed } = await open();
      await page.goto(`${origin}${BASE}${slash}`);
      await page
        .getByRole("navigation", { name: "Workflows" })
        .getByRole("button", { name: "greet", exact: true })
        .click();
      await page.getByRole("heading", { name: "Start a run of greet" }).waitFor();
      await page.getByRole("button", { name: "Add field" }).click();
      await page.getByLabel("Field name").fill("name");
      await page.getByRole("textbox", { name: "Value" }).fill("Ada");
      await page.getByRole("button", { name: "Start run" }).click();
      await page.locator(".run-result").getByText('"Hello, Ada!"').waitFor();
      // The graph was laid out (elkjs's worker is one of the files under the base path).
      await page.locator('.react-flow__node [data-node-id="greet"]').waitFor();

      // The address keeps the path it was opened at; the run's view is in its hash.
      const address = new URL(page.url());
      expect(address.pathname).toBe(`${BASE}${slash}`);
      expect(address.hash).toMatch(/^#\/greet\/runs\/.+/);
      await page.reload();
      await page.locator(".run-result").getByText('"Hello, Ada!"').waitFor();

      expect(failed).toEqual([]);
      const outside = requested.filter(
        (url) => url !== `${origin}${BASE}${slash}` && !url.startsWith(`${origin}${BASE}/`),
      );
      expect(outside).toEqual([]);
      // The page's own files and the API both came from under the base path.
      expect(requested.some((url) => url.startsWith(`${origin}${BASE}/assets/`))).toBe(true);
      expect(requested).toContain(`${origin}${BASE}/workflows`);
      expect(browser.foreign).toEqual([]);
      await page.close();
    });
  }
});
