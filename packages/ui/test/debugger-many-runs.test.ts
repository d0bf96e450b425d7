import { rm } from "node:fs/promises";
import { MemoryStore, WorkflowServer } from "eventloom/server";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type Browser, launchChromium } from "./support/browser.js";
import { buildUi } from "./support/ui-build.js";
import { chain } from "./support/workflows.js";

// Issue 15, "runs at scale": 10,000 stored runs of one workflow, listed in a real Chromium without
// loading them all. The records are committed to the real store the server serves from (starting
// 10,000 runs through the API would measure the engine, not the list).

const RUNS = 10_000;
let uiDir: string;
let browser: Browser;
let server: WorkflowServer;
let url: string;
const ids: string[] = [];

beforeAll(async () => {
  uiDir = await buildUi();
  browser = await launchChromium();
  const store = new MemoryStore();
  await store.init();
  const t0 = Date.parse("2026-01-01T00:00:00.000Z");
  const records = [];
  for (let i = 0; i < RUNS; i++) {
    const at = new Date(t0 + i * 1000).toISOString();
    const id = `run-${String(i).padStart(5, "0")}`;
    ids.push(id);
    records.push({
      handlerId: id,
      workflowName: "chain",
      runId: `r-${id}`,
      status: i % 10 === 3 ? ("failed" as const) : ("completed" as const),
      error: i % 10 === 3 ? "boom" : null,
      result: i % 10 === 3 ? null : i,
      startedAt: at,
      updatedAt: at,
      completedAt: at,
    });
  }
  await store.commit({ handlers: records });
  server = new WorkflowServer({ store, uiDir, token: "" });
  server.addWorkflow("chain", chain);
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

describe("10,000 runs", { timeout: 120_000 }, () => {
  it("lists the newest page, pages on by scrolling, finds any run by id and filters by status, never loading all", async () => {
    const page = await browser.open(url);
    const listed: { limit: number; count: number }[] = [];
    page.on("response", async (r) => {
      const u = new URL(r.url());
      if (u.pathname !== "/handlers") return;
      const body = (await r.json().catch(() => null)) as { handlers?: unknown[] } | null;
      listed.push({ limit: Number(u.searchParams.get("limit")), count: body?.handlers?.length ?? 0 });
    });
    await page.goto(`${url}/#/chain`);
    const newest = ids[RUNS - 1]!;
    await page.locator(`.run-button[data-handler-id="${newest}"]`).waitFor();
    expect(await page.locator(".run-list .vrow").count()).toBeLessThan(40);

    // Three scrolls to the end load three older pages, each once (every row near the end asks for
    // it as it appears: it was fetched once per row).
    const rows = () => page.locator(".run-list .vrow").last().getAttribute("aria-setsize");
    page
      .locator(".run-list ul, .run-list ol")
      .evaluate(
        (el) =>
          el.getAttribute("aria-label") &&
          el.children.length &&
          Number((el.lastElementChild as HTMLElement).getAttribute("aria-setsize")),
      );
    for (let n = 1; n <= 3; n++) {
      await page.locator(".run-list").evaluate((el) => {
        el.scrollTop = el.scrollHeight;
      });
      await expect.poll(rows).toBe(String(100 * (n + 1)));
    }
    // Each answer is recorded once its body is read, which may come after the row it drew.
    await expect.poll(() => listed.filter((l) => l.limit === 100).length).toBe(4);
    expect(await page.locator(".run-list .vrow").count()).toBeLessThan(40);
    const fetched = listed.reduce((sum, l) => sum + l.count, 0);
    expect(listed.every((l) => l.limit <= 100)).toBe(true);
    // The first page, three more and the polls of the newest 25: far from 10,000.
    expect(fetched).toBeLessThan(1_000);

    // The oldest run, never loaded, is found by its id on the server.
    const oldest = ids[0]!;
    const search = page.getByLabel("Search runs by id");
    await search.fill(oldest);
    await search.press("Enter");
    await page.locator(`.run-button[data-handler-id="${oldest}"]`).waitFor();
    await search.fill("");

    // Filtered by status, the server does the filtering: only failed runs come.
    await page.getByLabel("Filter runs by status").selectOption("failed");
    const failedNewest = ids.findLast((_, i) => i % 10 === 3)!;
    await page.locator(`.run-button[data-handler-id="${failedNewest}"]`).waitFor();
    const statuses = await page.locator(".run-list .run-button .status").allTextContents();
    expect(statuses.length).toBeGreaterThan(0);
    expect(statuses.every((s) => s.includes("failed"))).toBe(true);
    await page.close();
  });
});
