import { join } from "node:path";
import { WorkflowClient } from "eventloom/client";
import { SqliteStore, WorkflowServer } from "eventloom/server";
import type { Page } from "playwright-core";
import { afterAll, describe, expect, it } from "vitest";
import { human } from "../../../examples/human-in-the-loop-server.js";
import { tempDir } from "../../eventloom/test/server/helpers.js";
import { debuggerHarness } from "./support/debugger-harness.js";
import { accessibilityProblems, screenshot } from "./support/debugger-page.js";
import { book, chapter, notes } from "./support/workflows.js";

// Issue 15 in a real Chromium against a real server on a SQLite file: what was sent into a run from
// outside is in its timeline, durably (after the server starts again); runs not started by a request
// (child runs) show their input and re-run like any other.

const dir = tempDir();
let uiFiles = "";
const makeServer = (uiDir: string) => {
  uiFiles = uiDir;
  const store = new SqliteStore(join(dir.dir, "ui.db"));
  return new WorkflowServer({ store, uiDir, token: "", keepStepStates: true })
    .addWorkflow("notes", notes)
    .addWorkflow("human", human)
    .addWorkflow("book", book)
    .addWorkflow("chapter", chapter);
};
const dbg = debuggerHarness(makeServer);
afterAll(() => dir.remove());

/** Closes the server and serves the same file again (the harness closes the new one at the end). */
async function restart(): Promise<void> {
  await dbg.server.close();
  dbg.server = makeServer(uiFiles);
  ({ url: dbg.url } = await dbg.server.serve({ host: "127.0.0.1", port: 0 }));
  dbg.client = new WorkflowClient({ baseUrl: dbg.url });
}

async function open(hash: string): Promise<Page> {
  const page = await dbg.browser.open(dbg.url);
  await page.goto(`${dbg.url}/${hash}`);
  return page;
}

describe("what was sent into a run", { timeout: 90_000 }, () => {
  it("shows an answer sent from the page in the run's timeline, with what and when, after a restart too", async () => {
    const { handlerId } = await dbg.client.runWorkflowNowait("human", {});
    let page = await open(`#/human/runs/${handlerId}`);
    await page.locator(".run-summary").getByRole("button", { name: "Answer" }).click();
    const dialog = page.getByRole("dialog", { name: "Send an event" });
    await dialog.getByRole("textbox", { name: "response" }).fill("Grace");
    await dialog.getByRole("button", { name: "Send ResponseEvent" }).click();
    await page.locator(".run-result").getByText('"output": "Hello, Grace"').waitFor();
    const row = page.locator(".timeline-list .received");
    await row.getByText("Sent in: ResponseEvent").waitFor();
    await page.close();

    await restart();
    page = await open(`#/human/runs/${handlerId}`);
    await page.locator(".run-summary .status-completed").waitFor();
    const stored = page.locator(".timeline-list .received");
    await stored.getByText("Sent in: ResponseEvent").waitFor();
    expect(await stored.locator(".received-value").textContent()).toBe('{"response":"Grace"}');
    const time = await stored.locator("time").getAttribute("datetime");
    expect(Number.isNaN(Date.parse(time ?? ""))).toBe(false);
    // Between the step that asked and the step the answer woke, in the order of the log.
    const order = await page
      .locator(".timeline-list .execution, .timeline-list .received")
      .evaluateAll((els) => els.map((e) => (e as HTMLElement).dataset["step"] ?? "sent"));
    expect(order).toEqual(["prompt_human", "sent", "greet_human"]);
    expect(await accessibilityProblems(page)).toEqual([]);
    await screenshot(page, "sent-event-in-timeline");
    await page.close();
  });
});

/** The run the page shows now, once its heading names another run than `previous`. */
async function shownRun(page: Page, previous: string): Promise<string> {
  const heading = page.locator("#run-heading .mono");
  await expect.poll(async () => await heading.textContent(), { timeout: 15_000 }).not.toBe(previous);
  return (await heading.textContent()) ?? "";
}

/** The children of a run that has ended (started with the sync `runWorkflow`, which answers at its end). */
async function childrenOf(parent: string): Promise<string[]> {
  const page = await dbg.client.getHandlersPage({ parentHandlerId: parent });
  return page.handlers.map((h) => h.handlerId).reverse();
}

describe("runs started by another run", { timeout: 90_000 }, () => {
  it("shows a child run's input and re-runs it, with the same or an edited input", async () => {
    const { handlerId } = await dbg.client.runWorkflow("book", {});
    const [first] = await childrenOf(handlerId);
    const page = await open(`#/chapter/runs/${first}`);
    const input = page.locator(".run-input");
    await input.getByText('"title": "owls"').waitFor();
    await input.getByRole("button", { name: "Re-run", exact: true }).click();
    const again = await shownRun(page, first!);
    await page.locator(".run-result").getByText("4").waitFor();
    expect((await dbg.client.getHandler(again)).startEvent?.value).toEqual({ title: "owls" });

    await page.getByRole("button", { name: "Edit and re-run" }).click();
    const dialog = page.getByRole("dialog", { name: "Re-run with edited input" });
    await dialog.getByLabel(/title/).fill("hedgehogs");
    await dialog.getByRole("button", { name: "Start run" }).click();
    const edited = await shownRun(page, again);
    await page.locator(".run-result").getByText("9").waitFor();
    expect((await dbg.client.getHandler(edited)).startEvent?.value).toEqual({ title: "hedgehogs" });
    expect(await accessibilityProblems(page)).toEqual([]);
    await page.close();
  });
});

describe("fork from a step's end", { timeout: 90_000 }, () => {
  it("starts a run from the state the run had when a step ended: its queues and its state", async () => {
    const { handlerId, result } = await dbg.client.runWorkflow("notes", { startEvent: { topic: "owls" } });
    expect(result).toBe("owls: 2 steps, 1 check");
    const page = await open(`#/notes/runs/${handlerId}`);
    await page.locator(".run-summary .status-completed").waitFor();
    const rows = page.locator(".timeline-list .execution");
    await rows.nth(2).waitFor();
    // The last step's end is the run's end: nothing to go on from.
    expect(
      await rows
        .nth(2)
        .getByRole("button", { name: /Fork after/ })
        .count(),
    ).toBe(0);
    await rows
      .nth(0)
      .getByRole("button", { name: "Fork after note #1: a new run from the run's state at its end" })
      .click();
    const forked = await shownRun(page, handlerId);
    // It begins where `note` left it: `check` is queued, and the topic `note` kept is in its state.
    await page.locator(".run-result").getByText("owls: 2 steps, 1 check").waitFor();
    const steps = page.locator(".timeline-list .execution");
    await steps.nth(1).waitFor();
    expect(await steps.evaluateAll((els) => els.map((e) => (e as HTMLElement).dataset["step"]))).toEqual([
      "check",
      "report",
    ]);
    expect((await dbg.client.getHandler(forked)).startEvent?.value).toEqual({ topic: "owls" });
    expect(await accessibilityProblems(page)).toEqual([]);
    await screenshot(page, "fork-after-step");
    await page.close();
  });
});

describe("the tree of a run", { timeout: 90_000 }, () => {
  it("shows a run's children and a child's parent, each a link to its view", async () => {
    const { handlerId } = await dbg.client.runWorkflow("book", {});
    const [first, second] = await childrenOf(handlerId);
    const page = await open(`#/book/runs/${handlerId}`);
    const children = page.getByRole("list", { name: "Runs it started" });
    await children.locator(`[data-handler-id="${second}"]`).waitFor();
    expect(
      await children
        .locator("li")
        .evaluateAll((els) => els.map((e) => (e as HTMLElement).dataset["handlerId"])),
    ).toEqual([first, second]);
    expect(await accessibilityProblems(page)).toEqual([]);
    await screenshot(page, "run-tree");
    await children.getByRole("link", { name: first! }).click();
    await shownRun(page, handlerId);
    expect(page.url()).toContain(`#/chapter/runs/${first}`);
    const tree = page.locator(".run-tree");
    await tree.getByRole("link", { name: handlerId }).click();
    await shownRun(page, first!);
    expect(page.url()).toContain(`#/book/runs/${handlerId}`);
    await page.goBack();
    await shownRun(page, handlerId);
    expect(page.url()).toContain(first);
    await page.close();
  });
});
