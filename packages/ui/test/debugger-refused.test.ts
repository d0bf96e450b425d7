import { rm } from "node:fs/promises";
import type { AddressInfo } from "node:net";
import { createAdaptorServer } from "@hono/node-server";
import { MemoryStore, WorkflowServer } from "eventloom/server";
import { type Browser, chromium } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { greeting } from "../../../examples/greeting-server.js";
import { requireProvided } from "../../eventloom/test/support/provided.js";
import { CHROMIUM } from "./support/browser.js";
import { buildUi } from "./support/ui-build.js";

// The debugger opened under a name the server does not answer to (its Host check against DNS
// rebinding), in a real Chromium that resolves `debugger.test` to 127.0.0.1: the page says so and
// what to change, instead of "connection lost" or a page of JSON.

let uiDir: string;
let browser: Browser;
let allowing: WorkflowServer;
let refusing: WorkflowServer;
let current: WorkflowServer;
let http: ReturnType<typeof createAdaptorServer>;
let port: number;

beforeAll(async () => {
  requireProvided("chromium");
  uiDir = await buildUi();
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--host-resolver-rules=MAP debugger.test 127.0.0.1"],
  });
  // The same address, first served by a server that allows the name, then by one that does not.
  allowing = new WorkflowServer({
    store: new MemoryStore(),
    uiDir,
    token: "",
    allowedHosts: ["debugger.test"],
  });
  refusing = new WorkflowServer({ store: new MemoryStore(), uiDir, token: "" });
  for (const s of [allowing, refusing]) s.addWorkflow("greet", greeting);
  current = allowing;
  http = createAdaptorServer({ fetch: (request: Request) => current.fetch(request) });
  await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
  port = (http.address() as AddressInfo).port;
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await new Promise((resolve) => http?.close(resolve));
  await allowing?.close();
  await refusing?.close();
  if (uiDir) await rm(uiDir, { recursive: true, force: true });
});

describe("the debugger refused by the server", { timeout: 120_000 }, () => {
  it("says the server refuses its address and what to change, in the panels and the top bar", async () => {
    const page = await browser.newPage();
    await page.goto(`http://debugger.test:${port}/#/greet`);
    await page.getByRole("heading", { name: "Start a run of greet" }).waitFor();
    await page.locator(".connection").getByText("Connected").waitFor();

    current = refusing;
    // The run list polls: its next look is refused (403 HOST_NOT_ALLOWED).
    await page.locator(".connection").getByText("Refused by the server").waitFor();
    const said = page.getByText(
      /The server refuses this page: it does not answer to the address "debugger\.test"/,
    );
    await said.first().waitFor();
    expect(await said.first().textContent()).toContain("allowedHosts (WORKFLOWS_ALLOWED_HOSTS)");
    await expect.poll(() => page.locator(".connection").getAttribute("title")).toContain("debugger.test");

    // Opened anew under that name: a page that says why, not JSON.
    const answer = await page.goto(`http://debugger.test:${port}/`);
    expect(answer?.status()).toBe(403);
    expect(answer?.headers()["content-type"]).toContain("text/html");
    await page.getByRole("heading", { name: "This server does not answer to this address" }).waitFor();
    expect(await page.textContent("body")).toContain('Host "debugger.test:');
    await page.close();
  });
});
