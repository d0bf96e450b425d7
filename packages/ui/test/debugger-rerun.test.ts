import { join } from "node:path";
import { SqliteStore, WorkflowServer } from "eventloom/server";
import type { Page } from "playwright-core";
import { afterAll, describe, expect, it } from "vitest";
import { tempDir } from "../../eventloom/test/server/helpers.js";
import { debuggerHarness } from "./support/debugger-harness.js";
import { accessibilityProblems, screenshot } from "./support/debugger-page.js";
import { flaky, writer } from "./support/workflows.js";

// Issue 15 in a real Chromium against a real server on a SQLite file: a run's input shown, re-run
// with the same or an edited input, forked from a step's stored input, errors with their stacks.

const dir = tempDir();
const dbg = debuggerHarness((uiDir) =>
  new WorkflowServer({ store: new SqliteStore(join(dir.dir, "ui.db")), uiDir, token: "" })
    .addWorkflow("writer", writer)
    .addWorkflow("flaky", flaky),
);
afterAll(() => dir.remove());

async function open(hash: string): Promise<Page> {
  const page = await dbg.browser.open(dbg.url);
  await page.goto(`${dbg.url}/${hash}`);
  return page;
}

/** The run the page shows now, once its heading names another run than `previous`. */
async function shownRun(page: Page, previous: string): Promise<string> {
  const heading = page.locator("#run-heading .mono");
  await expect.poll(async () => await heading.textContent(), { timeout: 15_000 }).not.toBe(previous);
  return (await heading.textContent()) ?? "";
}

describe("re-run and fork", { timeout: 90_000 }, () => {
  it("shows the run's input and re-runs it with the same input", async () => {
    const { handlerId } = await dbg.client.runWorkflowNowait("writer", { startEvent: { topic: "owls" } });
    const page = await open(`#/writer/runs/${handlerId}`);
    const input = page.locator(".run-input");
    await input.getByText('"topic": "owls"').waitFor();
    expect(await input.getByRole("heading").textContent()).toContain("Topic");
    await page.locator(".run-summary .status-completed").waitFor();

    await input.getByRole("button", { name: "Re-run", exact: true }).click();
    const again = await shownRun(page, handlerId);
    expect(page.url()).toContain(`#/writer/runs/${again}`);
    await page.locator(".run-summary .status-completed").waitFor();
    await page.locator(".run-result").getByText('"words": 400').waitFor();
    await page.locator(".run-input").getByText('"topic": "owls"').waitFor();
    // Listed too, and back returns to the first run.
    await page.locator(`.run-button[data-handler-id="${again}"]`).waitFor();
    await page.goBack();
    await shownRun(page, again);
    expect(page.url()).toContain(handlerId);
    await page.close();
  });

  it("re-runs with an edited input from the start form filled with the old one, and gives the focus back", async () => {
    const { handlerId } = await dbg.client.runWorkflowNowait("writer", { startEvent: { topic: "owls" } });
    const page = await open(`#/writer/runs/${handlerId}`);
    await page.locator(".run-summary .status-completed").waitFor();
    const edit = page.getByRole("button", { name: "Edit and re-run" });
    await edit.click();
    const dialog = page.getByRole("dialog", { name: "Re-run with edited input" });
    const topic = dialog.getByLabel(/topic/);
    expect(await topic.inputValue()).toBe("owls");
    expect(await accessibilityProblems(page)).toEqual([]);
    await screenshot(page, "rerun-edited");
    // Cancelled: the focus returns to the button that opened it.
    await dialog.getByRole("button", { name: "Cancel" }).click();
    await dialog.waitFor({ state: "detached" });
    expect(await edit.evaluate((el) => el === document.activeElement)).toBe(true);

    await edit.click();
    await dialog.getByLabel(/topic/).fill("sea otters");
    await dialog.getByRole("button", { name: "Start run" }).click();
    const edited = await shownRun(page, handlerId);
    await page.locator(".run-result").getByText('"words": 1000').waitFor();
    expect((await dbg.client.getHandler(edited)).startEvent?.value).toEqual({ topic: "sea otters" });
    await page.close();
  });

  it("forks from a step whose input the log holds: the new run begins at that step", async () => {
    const { handlerId } = await dbg.client.runWorkflowNowait("writer", { startEvent: { topic: "bats" } });
    const page = await open(`#/writer/runs/${handlerId}`);
    await page.locator(".run-summary .status-completed").waitFor();
    const rows = page.locator(".timeline-list .execution");
    await rows.nth(1).waitFor();
    // The first step took the start event (a re-run, not a fork); the second took the stored Draft.
    expect(await rows.nth(0).locator(".fork-button").count()).toBe(0);
    const fork = rows.nth(1).getByRole("button", { name: /Fork from publish: a new run from Draft #\d+/ });
    await fork.click();
    const forked = await shownRun(page, handlerId);
    await page.locator(".run-result").getByText('"words": 400').waitFor();
    const steps = page.locator(".timeline-list .execution");
    await steps.first().waitFor();
    expect(await steps.evaluateAll((els) => els.map((e) => (e as HTMLElement).dataset["step"]))).toEqual([
      "publish",
    ]);
    expect(forked).not.toBe(handlerId);
    expect(await accessibilityProblems(page)).toEqual([]);
    await page.close();
  });

  it("shows the failed step's error with its stack, and each earlier attempt's", async () => {
    const { handlerId } = await dbg.client.runWorkflowNowait("flaky", {});
    await dbg.client.getResult(handlerId).catch(() => undefined);
    const page = await open(`#/flaky/runs/${handlerId}`);
    const box = page.locator(".run-error");
    await box.locator("p").getByText("fetch_rates").waitFor();
    await expect
      .poll(async () => (await box.locator("pre").first().textContent()) ?? "", { timeout: 15_000 })
      .toMatch(/^Error: rates service answered 503 \(try 3\)\n\s+at /);
    const stacks = box.locator(".attempts details");
    expect(await stacks.count()).toBe(2);
    await stacks.first().locator("summary").click();
    expect(await stacks.first().locator("pre").textContent()).toMatch(/\(try 1\)\n\s+at /);
    expect(await accessibilityProblems(page)).toEqual([]);
    await page.close();
  });
});
