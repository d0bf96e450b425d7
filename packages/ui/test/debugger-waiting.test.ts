import { MemoryStore, WorkflowServer } from "eventloom/server";
import type { Page } from "playwright-core";
import { describe, expect, it } from "vitest";
import { human } from "../../../examples/human-in-the-loop-server.js";
import { debuggerHarness } from "./support/debugger-harness.js";
import { accessibilityProblems, screenshot } from "./support/debugger-page.js";
import { Approval, approval, chain } from "./support/workflows.js";

// Issue 15: the runs waiting for a person, across workflows, at #/~waiting, in a real Chromium.

const dbg = debuggerHarness((uiDir) =>
  new WorkflowServer({ store: new MemoryStore(), uiDir, token: "" })
    .addWorkflow("human", human)
    .addWorkflow("approval", approval, { additionalEvents: [Approval] })
    .addWorkflow("chain", chain),
);

/** Waits until the server lists the run as waiting (its question is stored). */
async function waitingOnServer(handlerId: string): Promise<void> {
  await expect
    .poll(
      async () => (await dbg.client.getHandlersPage({ waiting: true })).handlers.map((h) => h.handlerId),
      {
        timeout: 15_000,
      },
    )
    .toContain(handlerId);
}

describe("runs waiting for input", { timeout: 90_000 }, () => {
  it("lists the runs of every workflow that wait for a person, with their questions, and leaves out answered ones", async () => {
    const asked = (await dbg.client.runWorkflowNowait("human", {})).handlerId;
    const approve = (await dbg.client.runWorkflowNowait("approval", {})).handlerId;
    const done = (await dbg.client.runWorkflowNowait("chain", {})).handlerId;
    const answered = (await dbg.client.runWorkflowNowait("human", {})).handlerId;
    for (const id of [asked, approve, answered]) await waitingOnServer(id);
    await dbg.client.sendEvent(answered, { type: "ResponseEvent", value: { response: "Ada" } });
    await dbg.client.getResult(answered);

    const page: Page = await dbg.browser.open(dbg.url);
    await page.goto(`${dbg.url}/#/human`);
    await page.getByRole("button", { name: "Waiting for input" }).click();
    expect(page.url()).toContain("#/~waiting");
    const list = page.getByRole("list", { name: "Runs waiting for input" });
    const row = (id: string) => list.locator(`[data-handler-id="${id}"]`);
    await row(asked).getByText('"prompt": "What is your name?"').waitFor();
    await row(approve).getByText('"question": "Ship release 4.2?"').waitFor();
    expect(await row(asked).locator(".tag").textContent()).toBe("human");
    expect(await row(approve).locator(".tag").textContent()).toBe("approval");
    expect(await row(done).count()).toBe(0);
    expect(await row(answered).count()).toBe(0);
    expect(await accessibilityProblems(page)).toEqual([]);
    await screenshot(page, "waiting-for-input");

    // It survives a reload; once answered elsewhere, a run leaves the list by itself.
    await page.reload();
    await row(approve).waitFor();
    await dbg.client.sendEvent(approve, { type: "Approval", value: { approved: true } });
    await row(approve).waitFor({ state: "detached", timeout: 15_000 });
    await row(asked).waitFor();

    // Opening one shows it under its own workflow, with the Answer button; back returns here.
    await row(asked).getByRole("button", { name: asked }).click();
    await page.locator("#run-heading").getByText(asked).waitFor();
    expect(page.url()).toContain(`#/human/runs/${asked}`);
    await page.locator(".run-summary").getByRole("button", { name: "Answer" }).waitFor();
    await page.goBack();
    await row(asked).waitFor();
    await page.close();
  });

  it("confirms an answer once the server has it, and keeps what this page sent in view", async () => {
    const asked = (await dbg.client.runWorkflowNowait("human", {})).handlerId;
    await waitingOnServer(asked);
    const page: Page = await dbg.browser.open(dbg.url);
    await page.goto(`${dbg.url}/#/human/runs/${asked}`);
    await page.locator(".run-summary").getByRole("button", { name: "Answer" }).click();
    const dialog = page.getByRole("dialog", { name: "Send an event" });
    await dialog.getByRole("textbox", { name: "response" }).fill("Grace");
    await dialog.getByRole("button", { name: "Send ResponseEvent" }).click();
    await dialog.waitFor({ state: "detached" });
    const sent = page.locator(".sent-events");
    await sent.getByRole("status").getByText("ResponseEvent").waitFor();
    expect(await sent.getByRole("status").textContent()).toContain("the server has it");
    await sent.locator("summary").click();
    await sent.getByText('"response": "Grace"').waitFor();
    await page.locator(".run-result").getByText('"output": "Hello, Grace"').waitFor();
    expect(await accessibilityProblems(page)).toEqual([]);
    await page.close();
  });
});
