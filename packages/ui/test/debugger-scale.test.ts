import { rm } from "node:fs/promises";
import { WorkflowClient } from "eventloom/client";
import { MemoryStore, WorkflowServer } from "eventloom/server";
import type { Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { human } from "../../../examples/human-in-the-loop-server.js";
import { type Browser, launchChromium } from "./support/browser.js";
import { accessibilityProblems, labelPixels, screenshot } from "./support/debugger-page.js";
import { buildUi } from "./support/ui-build.js";
import { chain, flaky, flood, Nudge, pipeline, slow } from "./support/workflows.js";

// The debugger at scale and when runs go wrong, in a real Chromium against a real server.

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
    .addWorkflow("flood", flood)
    .addWorkflow("flaky", flaky)
    .addWorkflow("chain", chain)
    .addWorkflow("pipeline", pipeline(14))
    .addWorkflow("human", human, { additionalEvents: [Nudge] })
    .addWorkflow("slow", slow);
  ({ url } = await server.serve({ host: "127.0.0.1", port: 0 }));
  client = new WorkflowClient({ baseUrl: url });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
  if (uiDir) await rm(uiDir, { recursive: true, force: true });
});

afterEach(() => {
  expect(browser.foreign).toEqual([]);
});

async function open(hash: string, viewport = { width: 1440, height: 900 }): Promise<Page> {
  const page = await browser.open(url);
  await page.setViewportSize(viewport);
  await page.goto(`${url}/${hash}`);
  return page;
}

const rowCount = (page: Page, list: string) => page.locator(`${list} .vrow`).count();

describe("the debugger with big runs", { timeout: 120_000 }, () => {
  it("draws a 10,000-event run with only the rows in view, answers clicks, and lists it as completed", async () => {
    const { handlerId } = await client.runWorkflow("flood", { startEvent: { count: 10_000 } });
    const page = await open(`#/flood/runs/${handlerId}`);
    // 10,000 Ticks and the StopEvent, counted; only a screenful of rows exists in the DOM.
    await page.locator("#events-heading .count").getByText("10,001").waitFor();
    expect(await rowCount(page, ".event-list")).toBeLessThan(120);
    await page.locator(".event-list .event").first().waitFor();

    // Scrolled to the end, the last event is there; a click on a row is answered.
    await page.locator(".event-list").evaluate((el) => {
      el.scrollTop = el.scrollHeight;
    });
    await page.locator('.event[data-type="StopEvent"] .event-button').click();
    await page.locator(".event-detail").getByText('"written": 10000').waitFor();
    expect(await rowCount(page, ".event-list")).toBeLessThan(120);

    // Internal events too: the count grows, the DOM does not.
    await page.getByLabel("Show internal events").check();
    await page.locator("#events-heading .count").getByText("10,003").waitFor();
    expect(await rowCount(page, ".event-list")).toBeLessThan(120);

    // The run list says it ended, and the summary agrees.
    await page.locator(`.run-button[data-handler-id="${handlerId}"]`).getByText("completed").waitFor();
    await page.locator(".run-summary .status-completed").waitFor();
    // The start form is one click away, and answers.
    await page.getByRole("button", { name: "New run" }).click();
    await page.getByRole("heading", { name: "Start a run of flood" }).waitFor();
    await page.close();
  });

  it("follows a big run live and marks it completed in the list when it ends", async () => {
    const page = await open("#/flood");
    await page.getByRole("heading", { name: "Start a run of flood" }).waitFor();
    await page.getByRole("button", { name: "Add field" }).click();
    await page.getByLabel("Field name").fill("count");
    await page.getByRole("textbox", { name: "Value" }).fill("3000");
    await page.getByRole("tab", { name: "JSON" }).click();
    await page.locator(".start-form textarea").fill('{"count": 3000}');
    await page.getByRole("button", { name: "Start run" }).click();
    const heading = page.locator("#run-heading .mono");
    await heading.waitFor();
    const handlerId = (await heading.textContent()) ?? "";
    await page.locator("#events-heading .count").getByText("3,001").waitFor();
    await page.locator(`.run-button[data-handler-id="${handlerId}"]`).getByText("completed").waitFor();
    expect(await rowCount(page, ".event-list")).toBeLessThan(120);
    // Followed to the end: the last event is in view.
    await page.locator('.event[data-type="StopEvent"]').waitFor();
    await page.close();
  });
});

describe("the debugger when runs fail", { timeout: 90_000 }, () => {
  it("shows a failed run's step, attempts and every attempt's error, in red, on a step timeline", async () => {
    const { handlerId } = await client.runWorkflowNowait("flaky", {});
    await client.getResult(handlerId).catch(() => undefined);
    const page = await open(`#/flaky/runs/${handlerId}`);
    const box = page.locator(".run-error");
    await box.locator("p").getByText("fetch_rates").waitFor();
    expect(await box.textContent()).toContain("after 3 attempts");
    expect(await box.textContent()).toContain("Error: rates service answered 503 (try 3)");
    // The earlier attempts' errors are shown too.
    // (each with its stack folded under it: the line is the attempt's own text)
    await box.locator('.attempts li[data-attempt="2"]').waitFor();
    for (const attempt of [1, 2])
      expect(await box.locator(`.attempts li[data-attempt="${attempt}"]`).textContent()).toContain(
        `rates service answered 503 (try ${attempt})`,
      );

    // The timeline: three executions of the step, two retried, the last failed.
    const rows = page.locator(".timeline-list .execution");
    await rows.nth(2).waitFor();
    expect(await rows.evaluateAll((els) => els.map((e) => (e as HTMLElement).dataset["outcome"]))).toEqual([
      "retried",
      "retried",
      "failed",
    ]);
    expect(await rows.evaluateAll((els) => els.map((e) => (e as HTMLElement).dataset["attempt"]))).toEqual([
      "1",
      "2",
      "3",
    ]);

    // The failed step and the failure event are red, not success green.
    const node = page.locator('[data-node-id="fetch_rates"]');
    expect(await node.getAttribute("data-state")).toBe("failed");
    const colours = await page.evaluate(() => {
      const probe = document.createElement("span");
      document.body.append(probe);
      probe.style.color = "var(--danger)";
      const danger = getComputedStyle(probe).color;
      probe.style.color = "var(--ok)";
      const ok = getComputedStyle(probe).color;
      probe.remove();
      return { danger, ok };
    });
    expect(await node.evaluate((el) => getComputedStyle(el).borderTopColor)).toBe(colours.danger);
    const end = page.locator('.event[data-type="WorkflowFailedEvent"] .event-type');
    expect(await end.evaluate((el) => getComputedStyle(el).color)).toBe(colours.danger);
    await screenshot(page, "failed-run");
    await page.close();
  });

  it("draws a cancelled end in the cancelled colour, not success green", async () => {
    const { handlerId } = await client.runWorkflowNowait("slow", {});
    await client.cancelHandler(handlerId);
    const page = await open(`#/slow/runs/${handlerId}`);
    const end = page.locator('.event[data-type="WorkflowCancelledEvent"] .event-type');
    await end.waitFor();
    const ok = await page.evaluate(() => {
      const probe = document.createElement("span");
      document.body.append(probe);
      probe.style.color = "var(--ok)";
      const colour = getComputedStyle(probe).color;
      probe.remove();
      return colour;
    });
    expect(await end.evaluate((el) => getComputedStyle(el).color)).not.toBe(ok);
    await page.locator(".run-error.end-cancelled").waitFor();
    await page.close();
  });
});

describe("the debugger's graph", { timeout: 90_000 }, () => {
  it("counts an event passed between steps once, and picking a step narrows the timeline to it", async () => {
    const { handlerId } = await client.runWorkflow("chain", {});
    const page = await open(`#/chain/runs/${handlerId}`);
    await page.locator('[data-node-id="count"][data-state="done"]').waitFor();
    const badge = (id: string) => page.locator(`[data-node-id="${id}"] .wf-state`).textContent();
    await page.locator(".timeline-list .execution").nth(1).waitFor();
    expect(await badge("Parsed")).toBe("fired 1×");
    expect(await badge("workflows.events.StartEvent")).toBe("fired 1×");
    expect(await badge("parse")).toBe("ran 1×");

    await page.locator('.react-flow__node[data-id="count"]').click();
    await page.getByRole("button", { name: /Showing count/ }).waitFor();
    const steps = await page
      .locator(".timeline-list .execution")
      .evaluateAll((els) => els.map((e) => (e as HTMLElement).dataset["step"]));
    expect(steps).toEqual(["count"]);
    // The same with the keyboard: Enter on a focused step picks it.
    await page.locator('.react-flow__node[data-id="parse"]').focus();
    await page.keyboard.press("Enter");
    await page.getByRole("button", { name: /Showing parse/ }).waitFor();
    await page.close();
  });

  for (const viewport of [
    { width: 1440, height: 900 },
    { width: 1024, height: 768 },
    { width: 390, height: 844 },
  ]) {
    it(`draws a 14-step pipeline top to bottom with labels of at least 12 px at ${viewport.width} wide`, async () => {
      const page = await open("#/pipeline", viewport);
      const first = page.locator('[data-node-id="stage_1"]');
      const last = page.locator('[data-node-id="stage_14"]');
      await first.waitFor();
      expect(await page.locator(".react-flow__node").count()).toBeLessThanOrEqual(30);
      expect(await labelPixels(page)).toBeGreaterThanOrEqual(12);
      const a = await first.boundingBox();
      const b = await page.locator('[data-node-id="stage_2"]').boundingBox();
      expect(a!.y).toBeLessThan(b!.y);
      if (viewport.width === 1440) await screenshot(page, "graph-pipeline");
      // What does not fit is reached by scrolling the graph, at the same readable zoom.
      await page.locator(".react-flow__pane").hover();
      await expect
        .poll(async () => {
          await page.mouse.wheel(0, 400);
          return (await last.boundingBox())?.y ?? 1e9;
        })
        .toBeLessThan(viewport.height);
      expect(await labelPixels(page)).toBeGreaterThanOrEqual(12);
      await page.close();
    });
  }
});

describe("the debugger's links", { timeout: 90_000 }, () => {
  it("keeps workflow, run and comparison in the URL across reload, back and forward", async () => {
    const a = await client.runWorkflow("chain", {});
    const b = await client.runWorkflow("chain", {});
    const page = await open(`#/chain/runs/${a.handlerId}`);
    const shown = page.locator("#run-heading .mono");
    await shown.getByText(a.handlerId).waitFor();
    await page.reload();
    await shown.getByText(a.handlerId).waitFor();

    await page.locator(`.run-button[data-handler-id="${b.handlerId}"]`).click();
    await shown.getByText(b.handlerId).waitFor();
    expect(page.url()).toContain(`#/chain/runs/${b.handlerId}`);
    await page.goBack();
    await shown.getByText(a.handlerId).waitFor();
    await page.goForward();
    await shown.getByText(b.handlerId).waitFor();

    // A pasted link in the same tab is followed.
    await page.goto(`${url}/#/chain/compare/${a.handlerId}/${b.handlerId}`);
    await page.locator(".compare-table").waitFor();
    await page.reload();
    await page.locator(".compare-table").waitFor();
    await page.close();
  });

  it("says so for an unknown workflow, and shows a run under its own workflow's graph", async () => {
    const page = await open("#/no-such-workflow");
    await page.getByText("This server serves no workflow named “no-such-workflow”").waitFor();
    expect(await page.locator(".react-flow__node").count()).toBe(0);

    const { handlerId } = await client.runWorkflow("chain", {});
    await page.goto(`${url}/#/human/runs/${handlerId}`);
    await page.locator('[data-node-id="parse"]').waitFor();
    expect(page.url()).toContain(`#/chain/runs/${handlerId}`);
    await page.close();
  });
});

describe("the debugger's run list", { timeout: 120_000 }, () => {
  it("filters by status, searches by id, pages through many runs and polls only the newest page", async () => {
    const ids: string[] = [];
    for (let i = 0; i < 130; i++) ids.push((await client.runWorkflowNowait("chain", {})).handlerId);
    for (const id of ids) await client.getResult(id);
    const page = await open("#/chain");
    const limits: string[] = [];
    page.on("request", (r) => {
      const u = new URL(r.url());
      if (u.pathname === "/handlers") limits.push(u.searchParams.get("limit") ?? "");
    });
    await page.locator(".run-button").first().waitFor();
    expect(await rowCount(page, ".run-list")).toBeLessThan(40);

    // Rows tell runs apart by the ends of their ids.
    const shownIds = await page.locator(".run-id").allTextContents();
    expect(new Set(shownIds).size).toBe(shownIds.length);

    // The oldest run is not loaded, but a search for its id finds it on the server.
    const oldest = ids[0]!;
    expect(await page.locator(`.run-button[data-handler-id="${oldest}"]`).count()).toBe(0);
    const search = page.getByLabel("Search runs by id");
    await search.fill(oldest);
    await search.press("Enter");
    await page.locator(`.run-button[data-handler-id="${oldest}"]`).waitFor();
    await search.fill("");

    // Scrolled to the end, older pages load.
    await page.locator(".run-list").evaluate((el) => {
      el.scrollTop = el.scrollHeight;
    });
    await expect
      .poll(async () => {
        await page.locator(".run-list").evaluate((el) => {
          el.scrollTop = el.scrollHeight;
        });
        return page.locator(`.run-button[data-handler-id="${oldest}"]`).count();
      })
      .toBe(1);
    expect(await rowCount(page, ".run-list")).toBeLessThan(40);

    // Polls ask for a small first page, never everything loaded.
    await expect.poll(() => limits.filter((l) => l === "25").length).toBeGreaterThan(1);
    expect(limits.every((l) => Number(l) <= 100)).toBe(true);

    // Filtered by status: a failed run only.
    const failed = (await client.runWorkflowNowait("flaky", {})).handlerId;
    await client.getResult(failed).catch(() => undefined);
    await page.goto(`${url}/#/flaky`);
    await page.getByLabel("Filter runs by status").selectOption("completed");
    await page.getByText("No completed runs.").waitFor();
    await page.getByLabel("Filter runs by status").selectOption("failed");
    await page.locator(`.run-button[data-handler-id="${failed}"]`).waitFor();
    await page.close();
  });
});

describe("the debugger for everyone", { timeout: 120_000 }, () => {
  it("has no serious or critical accessibility problems on its main views", async () => {
    const page = await open("#/human");
    await page.getByRole("heading", { name: "Start a run of human" }).waitFor();
    await page.locator('[data-node-id="prompt_human"]').waitFor();
    expect(await accessibilityProblems(page)).toEqual([]);

    await page.getByRole("button", { name: "Start run" }).click();
    await page.locator(".input-required").waitFor();
    expect(await accessibilityProblems(page)).toEqual([]);

    await page.getByRole("button", { name: "Answer", exact: true }).click();
    await page.getByRole("dialog", { name: "Send an event" }).waitFor();
    expect(await accessibilityProblems(page)).toEqual([]);
    await page.keyboard.press("Escape");
    await page.close();
  });

  it("puts two runs picked for comparison in the URL at once, and the comparison has no serious accessibility problems", async () => {
    const a = await client.runWorkflow("chain", {});
    const b = await client.runWorkflow("chain", {});
    const page = await open("#/chain");
    await page.getByLabel(`Compare run ${a.handlerId}`).check();
    expect(page.url()).not.toContain("/compare/");
    await page.getByLabel(`Compare run ${b.handlerId}`).check();
    await expect.poll(() => page.url()).toContain(`#/chain/compare/${a.handlerId}/${b.handlerId}`);
    await page.locator('.compare-table td[data-type="StopEvent"]').nth(1).waitFor();
    expect(await accessibilityProblems(page)).toEqual([]);
    // The link reloaded keeps both runs picked in the list.
    await page.reload();
    await page.locator(".compare-table").waitFor();
    expect(await page.getByLabel(`Compare run ${a.handlerId}`).isChecked()).toBe(true);
    await page.close();
  });

  it("leaves room above the top node's badge on a graph taller than its panel's margins", async () => {
    // The human workflow's graph is zoomed to a readable size, a little taller than fits with margins.
    const { handlerId } = await client.runWorkflowNowait("human", {});
    const page = await open(`#/human/runs/${handlerId}`);
    const badge = page.locator('[data-node-id="workflows.events.StartEvent"] .wf-state');
    await badge.getByText("fired 1×").waitFor();
    const panel = await page.locator(".graph-panel").boundingBox();
    const box = await badge.boundingBox();
    expect(box!.y).toBeGreaterThanOrEqual(panel!.y + 4);
    await page.close();
  });

  it("fits a phone: the Answer button is on screen and the side column takes the full width", async () => {
    const page = await open("#/human", { width: 390, height: 844 });
    await page.getByRole("heading", { name: "Start a run of human" }).waitFor();
    const side = await page.locator(".left-panel").boundingBox();
    expect(side!.width).toBeGreaterThan(380);
    await page.getByRole("button", { name: "Start run" }).click();
    const answer = page.getByRole("button", { name: "Answer", exact: true });
    await answer.waitFor();
    await answer.scrollIntoViewIfNeeded();
    const box = await answer.boundingBox();
    expect(box!.x).toBeGreaterThanOrEqual(0);
    expect(box!.x + box!.width).toBeLessThanOrEqual(390);
    await screenshot(page, "phone-waiting");
    await page.close();
  });
});
