// The debugger following a big run live, in a real Chromium: click latency while events stream,
// the page's heap at the end, time until the last event is drawn, and the first load's bytes.
// Run: npm run bench:ui   (or: node_modules/.bin/tsx bench/ui/debugger-bench.ts [--events 10000] [--pause-ms 100])
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import type { CDPSession, Page } from "playwright-core";
import { z } from "zod";
import { defineEvent, StartEvent, StopEvent, Workflow } from "../../packages/eventloom/src/core/index.js";
import { SqliteStore, WorkflowServer } from "../../packages/eventloom/src/server/index.js";
import { launchChromium } from "../../packages/ui/test/support/browser.js";
import { buildUi } from "../../packages/ui/test/support/ui-build.js";

const flag = process.argv.indexOf("--events");
const N = flag > 0 ? Number(process.argv[flag + 1]) : 100_000;
if (!Number.isInteger(N) || N < 1) throw new Error("--events takes a positive whole number");
// A pause (ms) after every 1,000 events: a run that streams for a while instead of in one burst.
const pauseFlag = process.argv.indexOf("--pause-ms");
const PAUSE = pauseFlag > 0 ? Number(process.argv[pauseFlag + 1]) : 0;
if (!Number.isFinite(PAUSE) || PAUSE < 0) throw new Error("--pause-ms takes a number of milliseconds");

const Tick = defineEvent("Tick", z.object({ i: z.number().int() }));
const flood = new Workflow({ name: "flood", timeout: null }).step(
  "flood",
  { accepts: [StartEvent], emits: [StopEvent] },
  async (ctx, ev) => {
    const count = ev.data["count"] as number;
    for (let i = 0; i < count; i++) {
      ctx.writeEventToStream(Tick.create({ i }));
      // As the stream bench: let commits and readers run between thousands.
      if (i % 1000 === 999) await new Promise((r) => (PAUSE > 0 ? setTimeout(r, PAUSE) : setImmediate(r)));
    }
    return StopEvent.create({ result: { written: count } });
  },
);

const quantile = (xs: number[], q: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? Number.NaN : s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
};
const ms = (x: number) => `${x.toFixed(1)} ms`;
const mb = (bytes: number) => `${(bytes / 1e6).toFixed(1)} MB`;
const kb = (bytes: number) => `${(bytes / 1e3).toFixed(1)} kB`;

/** Installs in the page a recorder of click → DOM change latencies on the internal-events toggle. */
async function installClickProbe(page: Page): Promise<void> {
  await page.evaluate(() => {
    const w = window as unknown as {
      __clicks: { latency: number; live: boolean }[];
      __clickAt: number | null;
      __live: boolean;
    };
    w.__clicks = [];
    w.__clickAt = null;
    w.__live = false;
    const label = document.querySelector("#events-heading") as HTMLElement;
    // The input's own timestamp: when the browser received the click, before any queueing behind work.
    document.addEventListener(
      "click",
      (e) => {
        if (!(e.target as HTMLElement).closest?.(".toggle")) return;
        w.__clickAt = e.timeStamp;
        w.__live = document.querySelector(".live-note") !== null;
      },
      true,
    );
    // The count label is redrawn by React when the toggle's state reaches the list.
    new MutationObserver(() => {
      if (w.__clickAt === null) return;
      w.__clicks.push({ latency: performance.now() - w.__clickAt, live: w.__live });
      w.__clickAt = null;
    }).observe(label, { subtree: true, characterData: true, childList: true });
  });
}

/** Clicks the toggle and waits until the page saw the DOM answer; returns the page-side latency. */
async function clickOnce(page: Page): Promise<{ latency: number; live: boolean }> {
  const before = await page.evaluate(() => (window as unknown as { __clicks: unknown[] }).__clicks.length);
  await page.getByLabel("Show internal events").click();
  await page.waitForFunction(
    (n) => (window as unknown as { __clicks: unknown[] }).__clicks.length > n,
    before,
    { polling: "raf" },
  );
  return page.evaluate(() => {
    const c = (window as unknown as { __clicks: { latency: number; live: boolean }[] }).__clicks;
    return c[c.length - 1]!;
  });
}

async function heap(cdp: CDPSession): Promise<{ used: number; afterGc: number }> {
  const metric = async () => {
    const { metrics } = await cdp.send("Performance.getMetrics");
    return metrics.find((m) => m.name === "JSHeapUsedSize")?.value ?? Number.NaN;
  };
  const used = await metric();
  await cdp.send("HeapProfiler.collectGarbage");
  return { used, afterGc: await metric() };
}

const step = (what: string) => process.stderr.write(`… ${what}\n`);
const countText = (n: number) => n.toLocaleString("en-US");

async function main() {
  const started = Date.now();
  const uiDir = await buildUi();
  const dbDir = mkdtempSync(join(tmpdir(), "eventloom-ui-bench-"));
  const server = new WorkflowServer({ store: new SqliteStore(join(dbDir, "bench.db")), uiDir, token: "" });
  server.addWorkflow("flood", flood);
  const { url } = await server.serve({ host: "127.0.0.1", port: 0 });
  const browser = await launchChromium();
  try {
    // (d) The first load: what crosses the wire until the page is drawn, the layout worker apart.
    const page = await browser.open(url);
    const cdp = await page.context().newCDPSession(page);
    await cdp.send("Network.enable");
    await cdp.send("Performance.enable");
    const urls = new Map<string, string>();
    const transferred = new Map<string, number>();
    cdp.on("Network.responseReceived", (e) => urls.set(e.requestId, e.response.url));
    cdp.on("Network.loadingFinished", (e) => transferred.set(e.requestId, e.encodedDataLength));
    await page.goto(`${url}/#/flood`);
    await page.getByRole("heading", { name: "Start a run of flood" }).waitFor();
    await page.locator('[data-node-id="flood"]').waitFor();
    const loads = [...transferred].map(([id, bytes]) => ({ url: urls.get(id) ?? id, bytes }));
    const firstLoad = loads.filter((l) => !l.url.includes("elk-worker"));
    const assets = readdirSync(join(uiDir, "assets")).filter((f) => !f.includes("elk-worker"));
    const gzipped = [...assets.map((f) => join(uiDir, "assets", f)), join(uiDir, "index.html")]
      .map((f) => gzipSync(readFileSync(f), { level: 9 }).length)
      .reduce((a, b) => a + b, 0);
    const elk = loads.find((l) => l.url.includes("elk-worker"));

    step("first load measured");
    // The server's first run starts its SQLite writer thread (under tsx, a second of transpiling):
    // one small run first, so that "first row" measures the debugger, not that cold start.
    const warm = await fetch(`${url}/workflows/flood/run`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ start_event: { count: 10 } }),
    });
    await warm.text();
    const heapIdle = await heap(cdp);

    // Start the run from the form and follow it; click while it streams.
    await page.getByRole("tab", { name: "JSON" }).click();
    await page.locator(".start-form textarea").fill(JSON.stringify({ count: N }));
    const started = page.waitForResponse((r) => r.url().includes("/run-nowait"));
    const t0 = performance.now();
    await page.getByRole("button", { name: "Start run" }).click();
    await started;
    const tStarted = performance.now() - t0;
    await page.locator(".event-list .event").first().waitFor({ timeout: 600_000 });
    const tFirst = performance.now() - t0;
    await installClickProbe(page);
    // The toggle's two states show N+1 (published) or N+1 plus the run's internal events.
    const doneLabel = page.locator("#events-heading .count");
    const lastEvent = page.locator('.event[data-type="StopEvent"]');
    const live: number[] = [];
    // Click until a click lands after the end: a click counts as live if the page said "Live…" then.
    let firstClick: number | null = null;
    for (;;) {
      const click = await clickOnce(page);
      firstClick ??= click.latency;
      if (!click.live) break;
      live.push(click.latency);
    }
    step(`clicks done: ${live.length}`);
    if (await page.getByLabel("Show internal events").isChecked())
      await page.getByLabel("Show internal events").uncheck();
    await doneLabel.getByText(countText(N + 1), { exact: true }).waitFor({ timeout: 600_000 });
    await lastEvent.waitFor();
    const tFollowed = performance.now() - t0;
    step("followed to the end");
    const heapEnd = await heap(cdp);

    // Baseline after: the same click on the idle page holding the whole run.
    const idleFull: number[] = [];
    for (let i = 0; i < 20; i++) idleFull.push((await clickOnce(page)).latency);

    // (c) and the heap again on an untouched page: a second tab opens the finished run's link cold,
    // then a third follows a new run live without any click.
    step("idle clicks done");
    const handlerId = (await page.locator("#run-heading .mono").textContent()) ?? "";
    await page.close();
    const quiet = await browser.open(url);
    const quietCdp = await quiet.context().newCDPSession(quiet);
    await quietCdp.send("Performance.enable");
    await quiet.goto(`${url}/#/flood`);
    await quiet.getByRole("tab", { name: "JSON" }).click();
    await quiet.locator(".start-form textarea").fill(JSON.stringify({ count: N }));
    const t1 = performance.now();
    await quiet.getByRole("button", { name: "Start run" }).click();
    await quiet
      .locator("#events-heading .count")
      .getByText(countText(N + 1), { exact: true })
      .waitFor({ timeout: 600_000 });
    const tQuiet = performance.now() - t1;
    await quiet.locator('.event[data-type="StopEvent"]').waitFor();
    step("quiet run drawn");
    const heapQuiet = await heap(quietCdp);
    await quiet.close();

    const cold = await browser.open(url);
    const t2 = performance.now();
    await cold.goto(`${url}/#/flood/runs/${handlerId}`);
    await cold
      .locator("#events-heading .count")
      .getByText(countText(N + 1), { exact: true })
      .waitFor({ timeout: 600_000 });
    step("cold link drawn");
    const tCold = performance.now() - t2;
    await cold.close();

    const line = (name: string, xs: number[]) =>
      `${name.padEnd(44)} n=${String(xs.length).padStart(4)}  p50 ${ms(quantile(xs, 0.5)).padStart(9)}  p95 ${ms(quantile(xs, 0.95)).padStart(9)}  max ${ms(Math.max(...xs)).padStart(9)}`;
    console.log(
      `debugger in Chromium, one run of ${countText(N)} events${PAUSE > 0 ? `, a ${PAUSE} ms pause every 1,000` : ""} (SQLite store, same machine)`,
    );
    console.log("click on 'Show internal events' → the count label redrawn:");
    console.log(line("  while the run streams (goal p95 ≤ 100 ms)", live));
    console.log(line(`  idle page holding ${countText(N)} events (baseline)`, idleFull));
    console.log(
      `first row drawn ${ms(tFirst)} after the Start run click (${ms(tFirst - tStarted)} after the server's answer to it); the first click after it answered in ${ms(firstClick ?? Number.NaN)}`,
    );
    console.log(
      `time until the last event is drawn: ${ms(tFollowed)} with clicks, ${ms(tQuiet)} untouched (from the Start run click); ${ms(tCold)} opening the ended run's link`,
    );
    console.log(
      `JS heap: ${mb(heapIdle.afterGc)} idle; at the end ${mb(heapEnd.used)} (${mb(heapEnd.afterGc)} after GC) with clicks, ${mb(heapQuiet.used)} (${mb(heapQuiet.afterGc)} after GC) untouched (goal < 300 MB)`,
    );
    console.log(
      `first load, layout worker apart: ${kb(firstLoad.reduce((a, l) => a + l.bytes, 0))} transferred in ${firstLoad.length} responses (headers included); the same files gzipped (level 9): ${kb(gzipped)} (goal ≤ 300 kB gzipped)`,
    );
    for (const l of firstLoad) console.log(`  ${kb(l.bytes).padStart(10)}  ${new URL(l.url).pathname}`);
    if (elk) console.log(`  layout worker, loaded when the first graph is laid out: ${kb(elk.bytes)}`);
    console.log(`(${((Date.now() - started) / 1000).toFixed(0)} s in all)`);
  } finally {
    await browser.close();
    await server.close();
    rmSync(uiDir, { recursive: true, force: true });
    rmSync(dbDir, { recursive: true, force: true });
  }
}

await main();
