import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SqliteStore, WorkflowServer } from "eventloom/server";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { human } from "../../../examples/human-in-the-loop-server.js";
import { debuggerHarness } from "./support/debugger-harness.js";
import { accessibilityProblems, screenshot } from "./support/debugger-page.js";

// Issue 13: a run blocked because its workflow was removed appeared nowhere in the debugger (it lists
// runs per registered workflow). The Blocked view (#/~blocked) lists every blocked run, across
// workflows, in a real Chromium.

const dir = mkdtempSync(join(tmpdir(), "eventloom-ui-blocked-"));
const db = join(dir, "w.db");
let stranded = "";

// Before the debugger's server starts: a run of workflow "retired", waiting for input, on the file.
beforeAll(async () => {
  const before = new WorkflowServer({ store: new SqliteStore(db), token: "" })
    .addWorkflow("retired", human)
    .addWorkflow("human", human);
  const started = await before.fetch(
    new Request("http://localhost/workflows/retired/run-nowait", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ start_event: {} }),
    }),
  );
  stranded = ((await started.json()) as { handler_id: string }).handler_id;
  // Its question stored: the run waits, and stays so on the file.
  const deadline = Date.now() + 15_000;
  for (;;) {
    const res = await before.fetch(new Request("http://localhost/handlers?waiting=true"));
    const ids = ((await res.json()) as { handlers: { handler_id: string }[] }).handlers.map(
      (h) => h.handler_id,
    );
    if (ids.includes(stranded)) break;
    if (Date.now() > deadline) throw new Error(`run ${stranded} never waited for input`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  await before.close();
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// The same file, on code where workflow "retired" is gone.
const dbg = debuggerHarness((uiDir) =>
  new WorkflowServer({ store: new SqliteStore(db), uiDir, token: "" }).addWorkflow("human", human),
);

describe("blocked runs", { timeout: 90_000 }, () => {
  it("lists a run whose workflow was removed, with its workflow, the blocked badge, its code and detail, and opens it", async () => {
    const running = (await dbg.client.runWorkflowNowait("human", {})).handlerId;
    await expect
      .poll(
        async () => (await dbg.client.getHandlersPage({ blocked: true })).handlers.map((h) => h.handlerId),
        {
          timeout: 15_000,
        },
      )
      .toEqual([stranded]);
    // No registered workflow lists it.
    expect((await dbg.client.listWorkflows()).includes("retired")).toBe(false);

    const page: Page = await dbg.browser.open(dbg.url);
    await page.goto(`${dbg.url}/#/human`);
    await page.getByRole("button", { name: "Blocked", exact: true }).click();
    expect(page.url()).toContain("#/~blocked");
    const list = page.getByRole("list", { name: "Blocked runs" });
    const row = list.locator(`[data-handler-id="${stranded}"]`);
    await row.waitFor();
    expect(await row.locator(".tag").textContent()).toBe("retired");
    expect(await row.locator(".status-blocked").textContent()).toContain("blocked");
    expect(await row.locator(".blocked-reason").textContent()).toContain("WORKFLOW_CHANGED");
    expect(await row.locator(".blocked-reason").textContent()).toContain(
      'workflow "retired" is not registered',
    );
    expect(await list.locator(`[data-handler-id="${running}"]`).count()).toBe(0);
    expect(await page.locator("#blocked-heading .count").textContent()).toBe("1");
    expect(await accessibilityProblems(page)).toEqual([]);
    await screenshot(page, "blocked-runs");

    // It survives a reload; opening it shows the run with why it is blocked, and its Cancel button.
    await page.reload();
    await row.getByRole("button", { name: stranded }).click();
    await page.locator("#run-heading").getByText(stranded).waitFor();
    expect(page.url()).toContain(`#/retired/runs/${stranded}`);
    const summary = page.locator(".run-summary");
    await summary.locator(".blocked-reason").getByText("WORKFLOW_CHANGED").waitFor();
    await summary.getByRole("button", { name: "Cancel run" }).waitFor();
    await page.goBack();
    await row.waitFor();

    // Cancelled, it leaves the list by itself.
    await dbg.client.cancelHandler(stranded);
    await row.waitFor({ state: "detached", timeout: 15_000 });
    await page.getByText("No run is blocked.").waitFor();
    await page.close();
  });
});
