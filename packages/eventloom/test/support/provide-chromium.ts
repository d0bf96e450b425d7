// Debian's Chromium for the debugger's end-to-end tests (driven by playwright-core, which brings
// no browser of its own here).
import { canApt, isExecutable } from "./system.js";

/** Where the UI tests find Chromium: CHROMIUM_PATH, else Debian's. */
export const CHROMIUM = process.env["CHROMIUM_PATH"] ?? "/usr/bin/chromium";

/** What to install so that {@link provideChromium} finds Chromium: null when it is there already. */
export function chromiumPackages(): string[] | null {
  if (isExecutable(CHROMIUM) || process.env["CHROMIUM_PATH"]) return null;
  return canApt() ? ["chromium"] : null;
}

/** Checks Chromium is there (after any install); returns null, or one line saying what to do. */
export function chromiumProblem(installError?: string): string | null {
  if (isExecutable(CHROMIUM)) return null;
  if (process.env["CHROMIUM_PATH"]) return `CHROMIUM_PATH=${CHROMIUM} is not an executable Chromium.`;
  const why = installError ? ` (installing it failed: ${installError})` : "";
  return (
    `The debugger's end-to-end tests need Chromium at ${CHROMIUM}${why}: install Debian's package ` +
    "(`apt-get install chromium`, as root), or set CHROMIUM_PATH to a Chromium or Chrome binary."
  );
}
