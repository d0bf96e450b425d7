import { copyFile, mkdir, rm } from "node:fs/promises";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { createAdaptorServer } from "@hono/node-server";
import { WorkflowClient } from "eventloom/client";
import { MemoryStore, WorkflowServer } from "eventloom/server";
import type { Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { greeting } from "../../../examples/greeting-server.js";
import { human } from "../../../examples/human-in-the-loop-server.js";
import { type Browser, launchChromium } from "./support/browser.js";
import { buildUi } from "./support/ui-build.js";
import { failing, Nudge, order, slow } from "./support/workflows.js";

// The debugger in a real Chromium against a real server serving the UI's production build.

const repoRoot = fileURLToPath(new URL("../../../", import.meta.url));
const shotsDir = join(repoRoot, "test-results", "ui");
const docsShots = join(repoRoot, "docs", "screenshots");
const TOKEN = "s3cret-token";
// A markup payload: if any of it ran or became an element, event data was rendered as HTML.
const MARKUP = `<img src=x onerror="window.__pwned='img'"><script>window.__pwned='script'</script><b>Ada</b>`;

let uiDir: string;
let browser: Browser;
let server: WorkflowServer;
let url: string;
let client: WorkflowClient;

beforeAll(async () => {
  uiDir = await buildUi();
  browser = await launchChromium();
  server = new WorkflowServer({ store: new MemoryStore(), uiDir, token: "" });
  server
    .addWorkflow("greet", greeting)
    .addWorkflow("human", human, { additionalEvents: [Nudge] })
    .addWorkflow("order", order)
    .addWorkflow("failing", failing)
    .addWorkflow("slow", slow);
  ({ url } = await server.serve({ host: "127.0.0.1", port: 0 }));
  client = new WorkflowClient({ baseUrl: url });
  await mkdir(shotsDir, { recursive: true });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
  if (uiDir) await rm(uiDir, { recursive: true, force: true });
});

afterEach(() => {
  // No request may leave the server's origin: no CDN, no web fonts, nothing phoning home.
  expect(browser.foreign).toEqual([]);
});

/** Saves a screenshot under test-results/ui; with UPDATE_SCREENSHOTS=1 also under docs/screenshots. */
async function screenshot(page: Page, name: string): Promise<void> {
  const path = join(shotsDir, `${name}.png`);
  await page.screenshot({ path });
  if (process.env["UPDATE_SCREENSHOTS"] === "1") {
    await mkdir(docsShots, { recursive: true });
    await copyFile(path, join(docsShots, `${name}.png`));
  }
}

async function openDebugger(base = url): Promise<Page> {
  const page = await browser.open(base);
  await page.goto(`${base}/`);
  return page;
}

async function selectWorkflow(page: Page, name: string): Promise<void> {
  await page
    .getByRole("navigation", { name: "Workflows" })
    .getByRole("button", { name, exact: true })
    .click();
  await page.getByRole("heading", { name: `Start a run of ${name}` }).waitFor();
}

async function startRun(page: Page): Promise<string> {
  await page.getByRole("button", { name: "Start run" }).click();
  const heading = page.locator("#run-heading .mono");
  await heading.waitFor();
  return (await heading.textContent()) ?? "";
}

const eventTypes = (page: Page) =>
  page.locator(".event-list .event").evaluateAll((els) => els.map((e) => e.getAttribute("data-type")));

const statusOf = (page: Page) => page.locator(".run-summary .status").textContent();

describe("the workflow debugger", { timeout: 90_000 }, () => {
  it("serves index.html uncached and hashed assets as immutable", async () => {
    const index = await fetch(`${url}/`);
    expect(index.headers.get("cache-control")).toBe("no-cache");
    const html = await index.text();
    const asset = /src="\.\/(assets\/[^"]+\.js)"/.exec(html)?.[1];
    expect(asset).toBeDefined();
    const res = await fetch(`${url}/${asset}`);
    expect(res.status).toBe(200);
    expect(res.headers.get("cache-control")).toBe("public, max-age=31536000, immutable");
  });

  it("lists every workflow the server serves and shows the chosen one's graph", async () => {
    const page = await openDebugger();
    const names = page.getByRole("navigation", { name: "Workflows" }).getByRole("button");
    await names.first().waitFor();
    expect(await names.allTextContents()).toEqual(["greet", "human", "order", "failing", "slow"]);

    // Chosen with the keyboard.
    await page.getByRole("button", { name: "human", exact: true }).focus();
    await page.keyboard.press("Enter");
    await page.getByRole("heading", { name: "Start a run of human" }).waitFor();
    const node = (id: string) => page.locator(`.react-flow__node [data-node-id="${id}"]`);
    for (const id of [
      "prompt_human",
      "greet_human",
      "RequestEvent",
      "ResponseEvent",
      "OutEvent",
      "external_step",
    ]) {
      await node(id).waitFor();
    }
    // Laid out top to bottom: the start step comes above the step that ends the run.
    const first = await node("prompt_human").boundingBox();
    const last = await node("greet_human").boundingBox();
    expect(first!.y).toBeLessThan(last!.y);
    await screenshot(page, "graph-human");

    await page.emulateMedia({ colorScheme: "dark" });
    const dark = await page.evaluate(() => getComputedStyle(document.body.parentElement!).backgroundColor);
    await screenshot(page, "graph-human-dark");
    await page.emulateMedia({ colorScheme: "light" });
    const light = await page.evaluate(() => getComputedStyle(document.body.parentElement!).backgroundColor);
    expect(dark).not.toBe(light);

    // Nodes can be dragged; the controls zoom.
    await page.mouse.move(first!.x + first!.width / 2, first!.y + first!.height / 2);
    await page.mouse.down();
    await page.mouse.move(first!.x + first!.width / 2 + 20, first!.y + first!.height / 2 + 80, { steps: 8 });
    await page.mouse.up();
    const dragged = await node("prompt_human").boundingBox();
    expect(dragged!.y).toBeGreaterThan(first!.y + 40);
    const width = dragged!.width;
    await page.getByRole("button", { name: "Zoom In" }).click();
    await expect.poll(async () => (await node("prompt_human").boundingBox())!.width).toBeGreaterThan(width);
    await page.getByRole("button", { name: "Fit View" }).click();
    await page.close();
  });

  it("runs the greeting workflow from its form and shows its events as they stream", async () => {
    const page = await openDebugger();
    await selectWorkflow(page, "greet");
    // The plain StartEvent takes any fields: add one.
    await page.getByRole("button", { name: "Add field" }).click();
    await page.getByLabel("Field name").fill("name");
    await page.getByRole("textbox", { name: "Value" }).fill("Ada");
    const handlerId = await startRun(page);

    await page.locator(".run-result").getByText('"Hello, Ada!"').waitFor();
    expect(await statusOf(page)).toContain("completed");
    expect(await eventTypes(page)).toEqual(["StreamEvent", "StreamEvent", "StreamEvent", "StopEvent"]);
    const sequences = await page.locator(".event-seq").allTextContents();
    expect(sequences).toHaveLength(4);

    // Each event opens to its JSON.
    await page.locator('.event[data-type="StreamEvent"] .event-button').first().click();
    await page.locator(".event-detail pre").getByText('"sequence": 0').waitFor();

    // Internal events on demand: the step's state changes were in the stream all along.
    await page.getByLabel("Show internal events").check();
    expect(await eventTypes(page)).toContain("StepStateChanged");
    expect(await page.locator(`[data-node-id="greet"]`).getAttribute("data-state")).toBe("done");

    // The run is listed with its status and duration.
    const listed = page.locator(`.run-button[data-handler-id="${handlerId}"]`);
    await listed.getByText("completed").waitFor();
    expect(await listed.locator(".run-duration").textContent()).toMatch(/\d+(\.\d)? (ms|s)$/);

    // Copy the result.
    await browser.context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: url });
    await page.getByRole("button", { name: "Copy result" }).click();
    await page.getByRole("status").getByText("Copied").waitFor();
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe('"Hello, Ada!"');
    await screenshot(page, "greeting-run");
    await page.close();
  });

  it("runs the human-in-the-loop workflow and answers it through the Send Event form", async () => {
    const page = await openDebugger();
    await selectWorkflow(page, "human");
    const handlerId = await startRun(page);

    // The waiting input-required event is highlighted, with a one-click way to answer.
    await page.locator('.event.waiting[data-type="RequestEvent"]').waitFor();
    await page.locator(".input-required").getByText("What is your name?").waitFor();
    await page.locator('[data-node-id="RequestEvent"][data-state="done"]').waitFor();
    // The step that takes the answer is marked as waiting for it.
    await page.locator('[data-node-id="greet_human"][data-state="waiting"]').waitFor();
    await screenshot(page, "human-waiting");

    // Escape closes the dialog (and it can be opened again).
    await page.getByRole("button", { name: "Send event" }).click();
    const dialog = page.getByRole("dialog", { name: "Send an event" });
    await dialog.waitFor();
    await page.keyboard.press("Escape");
    await dialog.waitFor({ state: "detached" });
    await page.getByRole("button", { name: "Send event" }).click();
    await dialog.waitFor();
    // Only what may come from outside is offered: the human response first, then the additional
    // event; never the start or stop event, nor events that steps produce.
    const select = dialog.getByLabel("Event", { exact: true });
    const offered = await select
      .locator("option")
      .evaluateAll((os) => os.map((o) => (o as HTMLOptionElement).value));
    expect(offered).toEqual(["ResponseEvent", "Nudge"]);
    // The question being answered is shown.
    await dialog.getByText("What is your name?").waitFor();
    expect(await select.inputValue()).toBe("ResponseEvent");
    // Invalid input is explained before anything is sent.
    await dialog.getByRole("button", { name: "Send ResponseEvent" }).click();
    await dialog.getByText("Required").waitFor();
    await dialog.getByRole("textbox", { name: "response" }).fill("Grace");
    // Only steps that accept the event are offered.
    const steps = await dialog
      .getByLabel("Step (optional)")
      .locator("option")
      .evaluateAll((os) => os.map((o) => (o as HTMLOptionElement).value));
    expect(steps).toEqual(["", "greet_human"]);
    await dialog.getByLabel("Step (optional)").selectOption("greet_human");
    await screenshot(page, "send-event");
    await dialog.getByRole("button", { name: "Send ResponseEvent" }).click();
    await dialog.waitFor({ state: "detached" });

    await page.locator(".run-result").getByText('"output": "Hello, Grace"').waitFor();
    expect(await eventTypes(page)).toEqual(["RequestEvent", "OutEvent"]);
    const result = await client.getResult(handlerId);
    expect(result.result).toEqual({ output: "Hello, Grace" });
    await page.close();
  });

  it("shows event data as text: markup and script in an event never run", async () => {
    const page = await openDebugger();
    await selectWorkflow(page, "human");
    await startRun(page);
    await page.getByRole("button", { name: "Answer", exact: true }).click();
    const dialog = page.getByRole("dialog", { name: "Send an event" });
    await dialog.getByRole("textbox", { name: "response" }).fill(MARKUP);
    await dialog.getByRole("button", { name: "Send ResponseEvent" }).click();
    await page.locator('.event[data-type="OutEvent"]').waitFor();

    await page.getByLabel("Show internal events").check();
    await page.locator('.event[data-type="OutEvent"] .event-button').click();
    await page.locator(".event-detail").waitFor();
    const shown = await page.locator(".app").textContent();
    expect(shown).toContain(JSON.stringify(`Hello, ${MARKUP}`));
    expect(await page.locator(".app img, .app script, .app b").count()).toBe(0);
    expect(await page.evaluate(() => (window as { __pwned?: string }).__pwned)).toBeUndefined();
    await page.close();
  });

  it("cancels a running run", async () => {
    const page = await openDebugger();
    await selectWorkflow(page, "slow");
    const handlerId = await startRun(page);
    // The graph shows the step at work.
    await page.locator('[data-node-id="wait_forever"][data-state="running"]').waitFor();
    await page.getByRole("button", { name: "Cancel run" }).click();
    await page.locator(".run-summary .status-cancelled").waitFor();
    await page.locator('.event[data-type="WorkflowCancelledEvent"]').waitFor();
    expect((await client.getHandler(handlerId)).status).toBe("cancelled");
    // The graph no longer shows the step at work.
    await page.locator('[data-node-id="wait_forever"][data-state="done"]').waitFor();
    await page.close();
  });

  it("shows a failed run's error", async () => {
    const page = await openDebugger();
    await selectWorkflow(page, "failing");
    await startRun(page);
    await page.locator(".run-summary .status-failed").waitFor();
    expect(await page.locator(".run-error").textContent()).toContain("boom: the flux capacitor broke");
    await page.locator('.event[data-type="WorkflowFailedEvent"]').waitFor();
    await page.close();
  });

  it("compares two runs side by side", async () => {
    const a = await client.runWorkflow("greet", { startEvent: { name: "Ada" } });
    const b = await client.runWorkflow("greet", { startEvent: { name: "Grace" } });
    const page = await openDebugger();
    await selectWorkflow(page, "greet");
    await page.getByLabel(`Compare run ${a.handlerId}`).check();
    await page.getByLabel(`Compare run ${b.handlerId}`).check();
    await page.getByRole("button", { name: "Compare", exact: true }).click();
    const table = page.locator(".compare-table");
    await table.waitFor();
    const results = await page.locator('[data-testid="compare-result"]').allTextContents();
    expect(results.some((r) => r.includes('"Hello, Ada!"'))).toBe(true);
    expect(results.some((r) => r.includes('"Hello, Grace!"'))).toBe(true);
    // Same events, different results: only the result row is marked.
    await table.locator('td[data-type="StopEvent"]').nth(1).waitFor();
    expect(await table.locator("tbody tr").count()).toBe(5);
    expect(await table.locator("tbody tr.differs").count()).toBe(2);
    await screenshot(page, "compare-runs");
    await page.close();
  });

  it("generates a start form with nested and optional fields and explains invalid input before sending", async () => {
    const page = await openDebugger();
    await selectWorkflow(page, "order");
    const form = page.locator(".start-form");
    await form.getByText("Who is ordering").waitFor();
    expect(await form.getByRole("textbox", { name: "quantity" }).inputValue()).toBe("1");

    await form.getByRole("button", { name: "Start run" }).click();
    await form.locator(".field-error").first().waitFor();
    expect(await form.locator(".field-error").allTextContents()).toEqual(["Required", "Required"]);
    expect((await client.getHandlersPage({ workflowName: "order" })).handlers).toEqual([]);
    await form.getByRole("textbox", { name: "customer" }).fill("A");
    await form.getByText("At least 2 characters").waitFor();
    await form.getByRole("textbox", { name: "customer" }).fill("Ada");
    await form.getByLabel("size").selectOption("M");
    await form.getByRole("button", { name: "Add address" }).click();
    await form.getByRole("textbox", { name: "city" }).fill("Paris");
    await form.getByRole("textbox", { name: "zip" }).fill("75");
    await form.getByText("Must match the pattern").waitFor();
    await form.getByRole("textbox", { name: "zip" }).fill("75001");
    await form.getByRole("button", { name: "Add tags item" }).click();
    await form.getByRole("textbox", { name: "tags 1" }).fill("vip");
    expect(await form.locator(".field-error").count()).toBe(0);
    await screenshot(page, "start-form");

    // The JSON editor carries the same value, for what the form cannot express.
    await form.getByRole("tab", { name: "JSON" }).click();
    const expected = {
      customer: "Ada",
      quantity: 1,
      size: "M",
      address: { city: "Paris", zip: "75001" },
      tags: ["vip"],
    };
    expect(JSON.parse(await form.locator("textarea").inputValue())).toEqual(expected);
    await form.locator("textarea").fill("{ not json");
    await form.getByText(/Not valid JSON/).waitFor();
    await form.locator("textarea").fill(JSON.stringify({ ...expected, express: true }));
    await form.getByRole("tab", { name: "Form" }).click();
    expect(await form.getByRole("checkbox", { name: "express" }).isChecked()).toBe(true);

    const handlerId = await startRun(page);
    await page.locator(".run-summary .status-completed").waitFor();
    expect((await client.getResult(handlerId)).result).toEqual({ ...expected, express: true });
    await page.close();
  });
});

describe("the workflow debugger on a server with a token", { timeout: 90_000 }, () => {
  let guarded: WorkflowServer;
  let guardedUrl: string;

  beforeAll(async () => {
    guarded = new WorkflowServer({ store: new MemoryStore(), uiDir, token: TOKEN });
    guarded.addWorkflow("greet", greeting);
    ({ url: guardedUrl } = await guarded.serve({ host: "127.0.0.1", port: 0 }));
  });

  afterAll(async () => {
    await guarded?.close();
  });

  it("asks for the token once on a 401 and keeps it for the tab", async () => {
    const page = await openDebugger(guardedUrl);
    const dialog = page.getByRole("dialog", { name: "This server needs a token" });
    await dialog.waitFor();
    await dialog.getByLabel("Token").fill("wrong");
    await dialog.getByRole("button", { name: "Connect" }).click();
    await dialog.getByText("did not accept").waitFor();
    await dialog.getByLabel("Token").fill(TOKEN);
    await dialog.getByRole("button", { name: "Connect" }).click();
    await page
      .getByRole("navigation", { name: "Workflows" })
      .getByRole("button", { name: "greet" })
      .waitFor();
    expect(await dialog.count()).toBe(0);

    // The token lives in this tab's sessionStorage: a reload does not ask again.
    await page.reload();
    await page.getByRole("heading", { name: "Start a run of greet" }).waitFor();
    expect(await page.getByRole("dialog").count()).toBe(0);
    const handlerId = await startRun(page);
    await page.locator(".run-summary .status-completed").waitFor();
    expect(handlerId).not.toBe("");
    await page.close();
  });
});

describe("the workflow debugger behind a connection that drops", { timeout: 90_000 }, () => {
  // The server mounted in a plain node:http server of our own, so that the test can cut its connections.
  let inner: WorkflowServer;
  let http: ReturnType<typeof createAdaptorServer>;
  let base: string;

  beforeAll(async () => {
    inner = new WorkflowServer({ store: new MemoryStore(), uiDir, token: "" });
    inner.addWorkflow("human", human);
    http = createAdaptorServer({ fetch: inner.fetch });
    await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
    base = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    if ("closeAllConnections" in http) http.closeAllConnections();
    await new Promise((resolve) => http?.close(resolve));
    await inner?.close();
  });

  it("resumes the events log without gaps or repeats after the connection drops", async () => {
    const page = await openDebugger(base);
    const streams: string[] = [];
    page.on("request", (r) => {
      const requested = new URL(r.url());
      if (requested.pathname.startsWith("/events/"))
        streams.push(requested.searchParams.get("after_sequence") ?? "");
    });
    await selectWorkflow(page, "human");
    const handlerId = await startRun(page);
    await page.getByLabel("Show internal events").check();
    await page.locator('.event.waiting[data-type="RequestEvent"]').waitFor();
    // The run now waits, idle, for its answer: nothing is published until it comes.
    await page.locator('.event[data-type="WorkflowIdleEvent"]').waitFor();
    const lastSeen = await page.locator(".event-list .event").last().getAttribute("data-sequence");

    // Cut every open connection, the event stream included; the client reconnects from its last sequence.
    if ("closeAllConnections" in http) http.closeAllConnections();
    const answer = new WorkflowClient({ baseUrl: base });
    await answer.sendEvent(handlerId, { type: "ResponseEvent", value: { response: "Ada" } });
    await page.locator('.event[data-type="OutEvent"]').waitFor();

    const shown = (await page
      .locator(".event-list .event")
      .evaluateAll((els) => els.map((e) => Number(e.getAttribute("data-sequence"))))) as number[];
    const stored: number[] = [];
    for await (const ev of answer.getWorkflowEvents(handlerId, { includeInternal: true }))
      stored.push(ev.sequence);
    expect(shown).toEqual(stored);
    expect(shown).toEqual(stored.map((_, i) => i));
    // It did reconnect, from the last sequence it had seen.
    expect(streams[0]).toBe("-1");
    expect(streams[1]).toBe(lastSeen);
    await page.close();
  });
});
