import { join } from "node:path";
import { SqliteStore, WorkflowServer } from "eventloom/server";
import type { Page } from "playwright-core";
import { afterAll, describe, expect, it } from "vitest";
import { human } from "../../../examples/human-in-the-loop-server.js";
import { tempDir } from "../../eventloom/test/server/helpers.js";
import { debuggerHarness } from "./support/debugger-harness.js";
import { accessibilityProblems } from "./support/debugger-page.js";

// Issue 15 in a real Chromium against a real server on a SQLite file: what was sent into a run from
// outside is in its timeline, durably (after the server starts again).

const dir = tempDir();
let uiFiles = "";
const makeServer = (uiDir: string) => {
  uiFiles = uiDir;
  return new WorkflowServer({ store: new SqliteStore(join(dir.dir, "ui.db")), uiDir, token: "" }).addWorkflow(
    "human",
    human,
  );
};
const dbg = debuggerHarness(makeServer);
afterAll(() => dir.remove());

/** Closes the server and serves the same file again (the harness closes the new one at the end). */
async function restart(): Promise<void> {
  await dbg.server.close();
  dbg.server = makeServer(uiFiles);
  ({ url: dbg.url } = await dbg.server.serve({ host: "127.0.0.1", port: 0 }));
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
    await page.close();
  });
});
