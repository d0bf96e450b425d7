import { MemoryStore, WorkflowServer } from "eventloom/server";
import type { Page } from "playwright-core";
import { describe, expect, it } from "vitest";
import { debuggerHarness } from "./support/debugger-harness.js";
import { accessibilityProblems, screenshot } from "./support/debugger-page.js";
import { chain } from "./support/workflows.js";

// Issue 17: the schedules, with their next fire time and last run, at #/~schedules, in a real Chromium.

const dbg = debuggerHarness((uiDir) =>
  new WorkflowServer({ store: new MemoryStore(), uiDir, token: "" }).addWorkflow("chain", chain, {
    schedules: [{ cron: "* * * * * *", id: "every-second" }],
  }),
);

describe("schedules", { timeout: 90_000 }, () => {
  it("lists each schedule with its next fire time and last run, and opens the run", async () => {
    // A run of the schedule exists (it fires every second).
    await expect
      .poll(async () => (await dbg.client.listSchedules())[0]?.lastHandlerId ?? null, { timeout: 15_000 })
      .not.toBeNull();

    const page: Page = await dbg.browser.open(dbg.url);
    await page.goto(`${dbg.url}/#/chain`);
    await page.getByRole("button", { name: "Schedules" }).click();
    expect(page.url()).toContain("#/~schedules");
    const row = page.getByRole("list", { name: "Schedules" }).locator('[data-schedule-id="every-second"]');
    await row.getByText("* * * * * * (UTC)").waitFor();
    expect(await row.locator(".tag").textContent()).toBe("chain");
    expect(Date.parse((await row.locator("time").getAttribute("datetime")) ?? "")).toBeGreaterThan(0);
    expect(await accessibilityProblems(page)).toEqual([]);
    await screenshot(page, "schedules");

    const last = row.getByRole("button", { name: /^sched-/ });
    const id = (await last.textContent()) as string;
    await last.click();
    expect(page.url()).toContain("#/chain/runs/sched-");
    await page
      .locator("#run-heading")
      .getByText(/sched-/)
      .waitFor();
    expect(id).toMatch(/^sched-/);
    await page.close();
  });
});
