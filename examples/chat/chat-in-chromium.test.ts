// The chat example's page (app.tsx: the AI SDK's own useChat, through WorkflowChatTransport) in a
// real Chromium against a real server on 127.0.0.1: tokens as they stream, a tool step, a question
// answered with the page's buttons, and a reload in the middle of an answer.
import { fileURLToPath } from "node:url";
import { MemoryStore, WorkflowServer } from "eventloom/server";
import { type Browser, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AppHost, bundlePage } from "../../packages/eventloom/test/support/app-host.js";
import { CHROMIUM } from "../../packages/eventloom/test/support/provide-chromium.js";
import { requireProvided } from "../../packages/eventloom/test/support/provided.js";
import { WordGate } from "../../packages/eventloom/test/support/word-gate.js";
import { chatWorkflow, getWeather } from "./chat-workflow.js";
import { defaultReply, fakeModel, wordsOf } from "./fake-model.js";

let gate = new WordGate();
let server: WorkflowServer;
let host: AppHost;
let browser: Browser;

beforeAll(async () => {
  requireProvided("chromium");
  server = new WorkflowServer({ store: new MemoryStore(), token: "" });
  server.addWorkflow("chat", chatWorkflow(fakeModel({ pace: (i) => gate.pass(i) })));
  host = new AppHost(await bundlePage(fileURLToPath(new URL("./app.tsx", import.meta.url))));
  host.target = (await server.serve({ host: "127.0.0.1", port: 0 })).url;
  await host.start();
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ["--no-sandbox", "--disable-gpu"],
  });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await host?.close();
  await server?.close();
});

async function openChat(): Promise<Page> {
  const page = await (await browser.newContext()).newPage();
  await page.goto(host.url);
  await page.getByRole("button", { name: "Send" }).waitFor();
  return page;
}

async function say(page: Page, text: string): Promise<void> {
  await page.getByPlaceholder(/Try:/).fill(text);
  await page.getByRole("button", { name: "Send" }).click();
}

const answerText = async (page: Page) =>
  (await page.locator(".message.assistant .text").allTextContents()).join("");
const firstWords = (text: string, n: number) => wordsOf(text).slice(0, n).join("");

describe("the chat example in Chromium", { timeout: 120_000 }, () => {
  it("shows the answer's tokens as they stream, and a tool step with its output", async () => {
    gate = new WordGate();
    const page = await openChat();
    await say(page, "what is the weather in Oslo");
    const full = defaultReply("what is the weather in Oslo");
    gate.release(3);
    await expect.poll(() => answerText(page)).toBe(firstWords(full, 3));
    await page.locator(".tool").getByText('get_weather({"city":"Oslo"})').waitFor();
    expect(await page.locator(".tool").textContent()).toContain(JSON.stringify(getWeather("Oslo")));
    gate.release(Number.POSITIVE_INFINITY);
    await expect.poll(() => answerText(page)).toBe(full);
    await page.locator(".status").getByText("ready").waitFor();
    await page.context().close();
  });

  it("asks the question in the chat and answers with what the person clicked", async () => {
    gate = new WordGate();
    gate.release(Number.POSITIVE_INFINITY);
    const page = await openChat();
    await say(page, "book a table for two");
    await page.locator(".question").getByText('Shall I go ahead: "book a table for two"?').waitFor();
    await page.getByRole("button", { name: "Yes" }).click();
    await expect.poll(() => answerText(page)).toBe(defaultReply("book a table for two (booking approved)"));
    await page.locator(".question .answer").waitFor();
    expect(await page.locator(".question").count()).toBe(1);
    await page.locator(".status").getByText("ready").waitFor();
    expect(await page.locator(".message.assistant").count()).toBe(1);
    await page.context().close();
  });

  it("comes back after a reload mid-answer where it was, and goes on without losing or doubling a word", async () => {
    gate = new WordGate();
    const page = await openChat();
    await say(page, "tell me a story");
    const full = defaultReply("tell me a story");
    gate.release(4);
    await expect.poll(() => answerText(page)).toBe(firstWords(full, 4));
    await page.reload();
    await page.locator(".message.user").getByText("tell me a story").waitFor();
    await expect.poll(() => answerText(page)).toBe(firstWords(full, 4));
    gate.release(Number.POSITIVE_INFINITY);
    await expect.poll(() => answerText(page)).toBe(full);
    expect(await page.locator(".message.assistant").count()).toBe(1);
    await page.context().close();
  });
});
