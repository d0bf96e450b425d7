import { rm } from "node:fs/promises";
import { MemoryStore, WorkflowServer } from "eventloom/server";
import type { Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { greeting } from "../../../examples/greeting-server.js";
import { human } from "../../../examples/human-in-the-loop-server.js";
import { type Browser, launchChromium } from "./support/browser.js";
import { buildUi } from "./support/ui-build.js";

// The debugger in a real Chromium against a server whose dialect is llama-agents (the shapes
// LlamaIndex's clients expect, docs/decisions/0010): it starts, lists, streams, answers and shows
// results as against a seed server, because its client asks for the seed's shapes on every request.

let uiDir: string;
let browser: Browser;
let server: WorkflowServer;
let url: string;

beforeAll(async () => {
  uiDir = await buildUi();
  browser = await launchChromium();
  server = new WorkflowServer({ store: new MemoryStore(), uiDir, token: "", wire: "llama-agents" });
  server.addWorkflow("greet", greeting).addWorkflow("human", human);
  ({ url } = await server.serve({ host: "127.0.0.1", port: 0 }));
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
  if (uiDir) await rm(uiDir, { recursive: true, force: true });
});

afterEach(() => {
  expect(browser.foreign).toEqual([]);
});

async function startRun(page: Page, workflow: string): Promise<string> {
  await page
    .getByRole("navigation", { name: "Workflows" })
    .getByRole("button", { name: workflow, exact: true })
    .click();
  await page.getByRole("heading", { name: `Start a run of ${workflow}` }).waitFor();
  if (workflow === "greet") {
    await page.getByRole("button", { name: "Add field" }).click();
    await page.getByLabel("Field name").fill("name");
    await page.getByRole("textbox", { name: "Value" }).fill("Ada");
  }
  await page.getByRole("button", { name: "Start run" }).click();
  const heading = page.locator("#run-heading .mono");
  await heading.waitFor();
  return (await heading.textContent()) ?? "";
}

describe("the debugger against a llama-agents server", { timeout: 90_000 }, () => {
  it("is served by a server that answers others in llama-agents", async () => {
    const res = await fetch(`${url}/workflows/human/run-nowait`, { method: "POST" });
    const body = (await res.json()) as { status: string; handler_id: string };
    expect(body.status).toBe("running");
    await fetch(`${url}/handlers/${body.handler_id}/cancel`, { method: "POST" });
  });

  it("runs the greeting from its form and shows its events, result and listing", async () => {
    const page = await browser.open(url);
    await page.goto(`${url}/`);
    const handlerId = await startRun(page, "greet");
    await page.locator(".run-result").getByText('"Hello, Ada!"').waitFor();
    expect(await page.locator(".run-summary .status").textContent()).toContain("completed");
    const types = await page
      .locator(".event-list .event")
      .evaluateAll((els) => els.map((e) => e.getAttribute("data-type")));
    expect(types).toEqual(["StreamEvent", "StreamEvent", "StreamEvent", "StopEvent"]);
    await page.locator(`.run-button[data-handler-id="${handlerId}"]`).getByText("completed").waitFor();
    await page.close();
  });

  it("answers the human-in-the-loop workflow and shows its custom stop event's result", async () => {
    const page = await browser.open(url);
    await page.goto(`${url}/`);
    await startRun(page, "human");
    await page.locator(".input-required").getByText("What is your name?").waitFor();
    await page.getByRole("button", { name: "Answer", exact: true }).click();
    const dialog = page.getByRole("dialog", { name: "Send an event" });
    await dialog.getByRole("textbox", { name: "response" }).fill("Grace");
    await dialog.getByRole("button", { name: "Send ResponseEvent" }).click();
    await page.locator(".run-result").getByText('"output": "Hello, Grace"').waitFor();
    expect(await page.locator(".run-summary .status").textContent()).toContain("completed");
    await page.close();
  });
});
