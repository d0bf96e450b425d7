// eventloom/react's hooks in a real Chromium, against a real server run as a child process
// (`eventloom serve` on a SQLite file): a run followed to its end, a page reloaded mid-stream, a
// person's answer sent from the hook, the server killed and started again mid-stream. The model's
// pace is the test's: the child streams word i once the gate file says more than i.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { type Browser, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type CliProcess, startCli, tempDir } from "../cli/cli-process.js";
import { AppHost, bundlePage } from "../support/app-host.js";
import { CHROMIUM } from "../support/provide-chromium.js";
import { requireProvided } from "../support/provided.js";
import { reply } from "./fixtures/talk-server.js";

const fixture = fileURLToPath(new URL("./fixtures/talk-server.ts", import.meta.url));
const page = fileURLToPath(new URL("./fixtures/talk-app.tsx", import.meta.url));
const ALL = 1000;

let browser: Browser;
let host: AppHost;
let server: CliProcess;
let dir: Awaited<ReturnType<typeof tempDir>>;
let gateFile: string;

const gate = (n: number) => writeFileSync(gateFile, String(n));

async function startServer(): Promise<void> {
  server = startCli(["serve", fixture, "--host", "127.0.0.1", "--port", "0"], {
    env: { WORKFLOWS_DB: join(dir.path, "talk.db"), GATE_FILE: gateFile },
  });
  host.target = await server.ready();
}

beforeAll(async () => {
  requireProvided("chromium");
  dir = await tempDir("eventloom-hooks-");
  gateFile = join(dir.path, "gate");
  gate(0);
  host = new AppHost(await bundlePage(page));
  await host.start();
  await startServer();
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ["--no-sandbox", "--disable-gpu"],
  });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await server?.kill();
  await host?.close();
  await dir?.cleanup();
});

/** A page of its own (its own localStorage), opened on the app. */
async function openApp(): Promise<Page> {
  const context = await browser.newContext();
  const p = await context.newPage();
  await p.goto(host.url);
  return p;
}

const text = async (p: Page) => (await p.locator("#text").textContent()) ?? "";
const wordsOf = (s: string, n: number) => (s.match(/\S+\s*/g) ?? []).slice(0, n).join("");

/** Every text the page showed was a prefix of `final`: nothing shown twice, nothing out of order. */
async function shownOnlyPrefixesOf(p: Page, final: string): Promise<void> {
  const shown = await p.evaluate(() => window.shownTexts);
  expect(shown.length).toBeGreaterThan(1);
  for (const s of shown) expect(final.startsWith(s), `"${s}" is not a prefix of "${final}"`).toBe(true);
}

describe("eventloom/react in Chromium", { timeout: 180_000 }, () => {
  it("follows a run to its end: its text word by word, its events, status, result and record", async () => {
    gate(0);
    const p = await openApp();
    await p.locator("#workflows").getByText("talk").waitFor();
    await p.click("#start");
    const full = reply("rivers", null);
    gate(3);
    await expect.poll(() => text(p)).toBe(wordsOf(full, 3));
    gate(ALL);
    await p.locator("#status").getByText("completed").waitFor();
    expect(await text(p)).toBe(full);
    expect(await p.locator("#events").textContent()).toBe("TextEvent,Spoken");
    expect(JSON.parse((await p.locator("#result").textContent()) ?? "")).toEqual({
      words: full.split(" ").length,
    });
    await p.locator("#handler-status").getByText("completed").waitFor();
    const id = await p.evaluate(() => localStorage.getItem("talk-run"));
    await expect.poll(() => p.locator("#handlers").textContent()).toContain(id as string);
    await shownOnlyPrefixesOf(p, full);
    await p.context().close();
  });

  it("picks the run up again after a reload mid-stream, without losing or repeating a word", async () => {
    gate(0);
    const p = await openApp();
    await p.click("#start");
    const full = reply("rivers", null);
    gate(4);
    await expect.poll(() => text(p)).toBe(wordsOf(full, 4));
    await p.reload();
    await expect.poll(() => text(p)).toBe(wordsOf(full, 4));
    expect(await p.locator("#status").textContent()).toBe("running");
    gate(6);
    await expect.poll(() => text(p)).toBe(wordsOf(full, 6));
    gate(ALL);
    await p.locator("#status").getByText("completed").waitFor();
    expect(await text(p)).toBe(full);
    await shownOnlyPrefixesOf(p, full);
    await p.context().close();
  });

  it("shows the run's question and sends the person's answer from the hook", async () => {
    gate(ALL);
    const p = await openApp();
    await p.click("#start-ask");
    await p.locator("#pending").getByText("May I talk about plans?").waitFor();
    expect(await text(p)).toBe("");
    await p.click("#approve");
    await p.locator("#status").getByText("completed").waitFor();
    expect(await p.locator("#pending").count()).toBe(0);
    expect(await text(p)).toBe(reply("plans", true));
    await p.context().close();
  });

  it("goes on after the server is killed and started again mid-stream", async () => {
    gate(0);
    const p = await openApp();
    await p.click("#start");
    const full = reply("rivers", null);
    gate(5);
    await expect.poll(() => text(p)).toBe(wordsOf(full, 5));
    host.target = null;
    await server.kill();
    await startServer();
    // the run resumed in the new process: its step streams again from the start, up to the gate
    gate(7);
    await expect.poll(() => text(p), { timeout: 60_000 }).toBe(wordsOf(full, 7));
    gate(ALL);
    await p.locator("#status").getByText("completed").waitFor({ timeout: 60_000 });
    expect(await text(p)).toBe(full);
    await shownOnlyPrefixesOf(p, full);
    await p.context().close();
  });
});
