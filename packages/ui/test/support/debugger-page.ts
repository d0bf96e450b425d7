import { copyFile, mkdir, readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Page } from "playwright-core";

const repoRoot = fileURLToPath(new URL("../../../../", import.meta.url));
const shotsDir = join(repoRoot, "test-results", "ui");
const docsShots = join(repoRoot, "docs", "screenshots");

/** Saves a screenshot under test-results/ui; with UPDATE_SCREENSHOTS=1 also under docs/screenshots. */
export async function screenshot(page: Page, name: string): Promise<void> {
  await mkdir(shotsDir, { recursive: true });
  const path = join(shotsDir, `${name}.png`);
  await page.screenshot({ path });
  if (process.env["UPDATE_SCREENSHOTS"] === "1") {
    await mkdir(docsShots, { recursive: true });
    await copyFile(path, join(docsShots, `${name}.png`));
  }
}

let axeSource: string | undefined;

/** axe-core's serious and critical violations on the page as it is now, as "rule: target" lines. */
export async function accessibilityProblems(page: Page): Promise<string[]> {
  axeSource ??= await readFile(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");
  // Evaluated through the DevTools protocol, which the page's Content-Security-Policy (script-src
  // 'self') does not govern, unlike an inline <script> tag.
  if (!(await page.evaluate(() => "axe" in window))) await page.evaluate(axeSource);
  const violations = await page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run: (ctx: unknown, opts: unknown) => Promise<unknown> } })
      .axe;
    const result = (await axe.run(document, { resultTypes: ["violations"] })) as {
      violations: { id: string; impact: string; nodes: { target: string[] }[] }[];
    };
    return result.violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      targets: v.nodes.map((n) => n.target.join(" ")),
    }));
  });
  return violations
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .flatMap((v) => v.targets.map((t) => `${v.id}: ${t}`));
}

/** The zoom the graph is drawn at (React Flow's viewport transform). */
export async function graphZoom(page: Page): Promise<number> {
  return page
    .locator(".react-flow__viewport")
    .evaluate((el) => new DOMMatrixReadOnly(getComputedStyle(el).transform).a);
}

/** The size a node's label is drawn at on screen, in CSS pixels. */
export async function labelPixels(page: Page): Promise<number> {
  const zoom = await graphZoom(page);
  const size = await page
    .locator(".wf-label")
    .first()
    .evaluate((el) => Number.parseFloat(getComputedStyle(el).fontSize));
  return size * zoom;
}
