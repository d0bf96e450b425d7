import { rm } from "node:fs/promises";
import type { AddressInfo } from "node:net";
import { createAdaptorServer } from "@hono/node-server";
import { WorkflowClient } from "eventloom/client";
import { MemoryStore, WorkflowServer } from "eventloom/server";
import type { Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { human } from "../../../examples/human-in-the-loop-server.js";
import { type Browser, launchChromium } from "./support/browser.js";
import { buildUi } from "./support/ui-build.js";
import { order, slow } from "./support/workflows.js";

// The debugger when the server goes away and comes back, and where the focus goes, in a real Chromium.
// The server is mounted in a node:http listener of our own, so that the test can stop and restart it.

let uiDir: string;
let browser: Browser;
let inner: WorkflowServer;
let http: ReturnType<typeof createAdaptorServer>;
let port: number;
let base: string;

const listen = () => new Promise<void>((resolve) => http.listen(port, "127.0.0.1", resolve));
const stop = () =>
  new Promise<void>((resolve) => {
    http.close(() => resolve());
    if ("closeAllConnections" in http) http.closeAllConnections();
  });

beforeAll(async () => {
  uiDir = await buildUi();
  browser = await launchChromium();
  inner = new WorkflowServer({ store: new MemoryStore(), uiDir, token: "" });
  inner.addWorkflow("human", human).addWorkflow("slow", slow).addWorkflow("order", order);
  http = createAdaptorServer({ fetch: inner.fetch });
  port = 0;
  await listen();
  port = (http.address() as AddressInfo).port;
  base = `http://127.0.0.1:${port}`;
}, 120_000);

afterAll(async () => {
  await browser?.close();
  if (http?.listening) await stop();
  await inner?.close();
  if (uiDir) await rm(uiDir, { recursive: true, force: true });
});

afterEach(() => {
  expect(browser.foreign).toEqual([]);
});

async function open(hash: string): Promise<Page> {
  const page = await browser.open(base);
  await page.goto(`${base}/${hash}`);
  return page;
}

const focused = (page: Page) =>
  page.evaluate(() => {
    const el = document.activeElement;
    return el === document.body || !el ? "body" : (el.id || el.textContent || el.tagName).trim();
  });

describe("the debugger when the server goes away", { timeout: 120_000 }, () => {
  it("shows the connection lost, keeps trying with backoff, and recovers every panel when it is back", async () => {
    const page = await open("#/human");
    await page.getByRole("heading", { name: "Start a run of human" }).waitFor();
    await page.getByRole("button", { name: "Start run" }).click();
    await page.locator('.event.waiting[data-type="RequestEvent"]').waitFor();
    const handlerId = (await page.locator("#run-heading .mono").textContent()) ?? "";
    await page.locator(".connection").getByText("Connected").waitFor();

    await stop();
    await page
      .locator(".connection")
      .getByText(/Connection lost/)
      .waitFor();
    // Long past the client's own reconnects (about 6 s), the page still tries: a stream retry is due.
    await page
      .locator(".connection")
      .getByText(/retrying in \d+ s/)
      .waitFor({ timeout: 60_000 });

    await listen();
    await page.locator(".connection").getByText("Connected").waitFor({ timeout: 60_000 });
    // The stream came back: an answer sent now shows up without a reload.
    const client = new WorkflowClient({ baseUrl: base });
    await client.sendEvent(handlerId, { type: "ResponseEvent", value: { response: "Ada" } });
    await page.locator('.event[data-type="OutEvent"]').waitFor({ timeout: 60_000 });
    await page.locator(".run-summary .status-completed").waitFor();
    expect(await page.locator(".runs .error-text").count()).toBe(0);
    await page.close();
  });

  it("shows a workflow list that failed to load once the server answers", async () => {
    await stop();
    const page = await browser.open(base);
    // The page itself cannot load without the server: load it, then take the server away and reload
    // the data by navigating inside the app.
    await listen();
    await page.goto(`${base}/#/human`);
    await page.getByRole("heading", { name: "Start a run of human" }).waitFor();
    await stop();
    await page.evaluate(() => {
      window.location.hash = "#/slow";
    });
    await page
      .locator(".connection")
      .getByText(/Connection lost/)
      .waitFor({ timeout: 60_000 });
    await listen();
    await page.getByRole("heading", { name: "Start a run of slow" }).waitFor({ timeout: 60_000 });
    await page.close();
  });
});

describe("the debugger's focus", { timeout: 90_000 }, () => {
  it("keeps the focus on the page after Start run, a dialog and Cancel run, and shows a failed submit's errors", async () => {
    const page = await open("#/slow");
    await page.getByRole("heading", { name: "Start a run of slow" }).waitFor();
    await page.getByRole("button", { name: "Start run" }).focus();
    await page.keyboard.press("Enter");
    await page.locator("#run-heading .mono").waitFor();
    await expect.poll(() => focused(page)).not.toBe("body");

    await page.getByRole("button", { name: "Cancel run" }).focus();
    await page.keyboard.press("Enter");
    await page.locator(".run-summary .status-cancelled").waitFor();
    await expect.poll(() => focused(page)).toBe("run-heading");

    // A dialog gives the focus back to what opened it.
    await page.goto(`${base}/#/human`);
    await page.getByRole("button", { name: "Start run" }).click();
    await page.locator(".input-required").waitFor();
    const send = page.getByRole("button", { name: "Send event" });
    await send.focus();
    await page.keyboard.press("Enter");
    await page.getByRole("dialog", { name: "Send an event" }).waitFor();
    await page.keyboard.press("Escape");
    await expect.poll(() => focused(page)).toBe("Send event");
    await page.close();
  });

  it("brings the first error of a failed submit into view and focuses its field", async () => {
    const page = await browser.open(base);
    await page.setViewportSize({ width: 390, height: 500 });
    await page.goto(`${base}/#/order`);
    const form = page.locator(".start-form");
    await form.getByText("Who is ordering").waitFor();
    await form.getByRole("button", { name: "Start run" }).click();
    await form.locator(".field-error").first().waitFor();
    await expect.poll(() => focused(page)).not.toBe("body");
    const field = page.locator(":focus");
    expect(await field.getAttribute("aria-invalid")).toBe("true");
    await expect
      .poll(() =>
        field.evaluate((el) => {
          const r = el.getBoundingClientRect();
          return r.top >= 0 && r.bottom <= window.innerHeight;
        }),
      )
      .toBe(true);
    await page.close();
  });
});
