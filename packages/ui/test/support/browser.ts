import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type BrowserContext, chromium, type Page } from "playwright-core";
import { requireProvided } from "../../../eventloom/test/support/provided.js";

export const CHROMIUM = process.env["CHROMIUM_PATH"] ?? "/usr/bin/chromium";

export interface Browser {
  context: BrowserContext;
  /** A fresh tab that records every request leaving `origin` into `foreign`. */
  open(origin: string): Promise<Page>;
  /** URLs requested outside the origin given to `open`. */
  foreign: string[];
  close(): Promise<void>;
}

/** Debian's Chromium, headless, in a fresh profile, with nothing of its own calling home. */
export async function launchChromium(): Promise<Browser> {
  requireProvided("chromium"); // the global setup found none and could not install one: it says why
  const profile = await mkdtemp(join(tmpdir(), "eventloom-ui-e2e-"));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
    viewport: { width: 1440, height: 900 },
  });
  const foreign: string[] = [];
  return {
    context,
    foreign,
    async open(origin) {
      const page = await context.newPage();
      page.on("request", (request) => {
        const url = request.url();
        if (!url.startsWith(`${origin}/`) && !url.startsWith("data:") && !url.startsWith("blob:"))
          foreign.push(url);
      });
      return page;
    },
    async close() {
      await context.close();
      await rm(profile, { recursive: true, force: true });
    },
  };
}
