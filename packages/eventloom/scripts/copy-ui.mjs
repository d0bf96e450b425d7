#!/usr/bin/env node
// Copies the debugger's production build (packages/ui/dist) into this package's dist/ui, where the
// server finds it when the package is installed, with brotli and gzip copies of its text files
// (precompressed once here, so that serving them costs no compression work). Run after
// `npm run build -w @eventloom/ui`.
import { cp, rm, stat } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { precompress } from "./precompress.mjs";

const from = fileURLToPath(new URL("../../ui/dist/", import.meta.url));
const to = fileURLToPath(new URL("../dist/ui/", import.meta.url));

try {
  if (!(await stat(`${from}index.html`)).isFile()) throw new Error("not a file");
} catch {
  console.error(`copy-ui: ${from}index.html is missing. Build the UI first: npm run build -w @eventloom/ui`);
  process.exit(1);
}

await rm(to, { recursive: true, force: true });
await cp(from, to, { recursive: true });
const { before, after } = await precompress(to);
const kb = (n) => `${Math.round(n / 1024)} kB`;
console.log(`copy-ui: copied ${from} to ${to}; its text files: ${kb(before)}, ${kb(after)} with brotli`);
