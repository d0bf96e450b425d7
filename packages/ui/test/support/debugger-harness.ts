import { rm } from "node:fs/promises";
import { WorkflowClient } from "eventloom/client";
import type { WorkflowServer } from "eventloom/server";
import { afterAll, afterEach, beforeAll, expect } from "vitest";
import { type Browser, launchChromium } from "./browser.js";
import { buildUi } from "./ui-build.js";

/** What a debugger test drives: Chromium, the server serving the built debugger, its URL, a client. */
export interface DebuggerHarness {
  browser: Browser;
  server: WorkflowServer;
  url: string;
  client: WorkflowClient;
}

/**
 * Registers the hooks every debugger test file needs: builds the debugger, starts Chromium and the
 * server `makeServer` returns (given the built debugger's folder) on a loopback port, checks after
 * each test that the page asked nothing of another origin, and closes it all at the end. The fields
 * of the returned object are set once `beforeAll` has run.
 */
export function debuggerHarness(makeServer: (uiDir: string) => WorkflowServer): DebuggerHarness {
  const h = {} as DebuggerHarness;
  let uiDir = "";
  beforeAll(async () => {
    uiDir = await buildUi();
    h.browser = await launchChromium();
    h.server = makeServer(uiDir);
    ({ url: h.url } = await h.server.serve({ host: "127.0.0.1", port: 0 }));
    h.client = new WorkflowClient({ baseUrl: h.url });
  }, 120_000);
  afterAll(async () => {
    await h.browser?.close();
    await h.server?.close();
    if (uiDir) await rm(uiDir, { recursive: true, force: true });
  });
  afterEach(() => {
    expect(h.browser.foreign).toEqual([]);
  });
  return h;
}
