import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

const src = (p: string) => fileURLToPath(new URL(`./packages/eventloom/src/${p}`, import.meta.url));

export default defineConfig({
  resolve: {
    alias: [
      { find: /^eventloom\/server$/, replacement: src("server/index.ts") },
      { find: /^eventloom\/client$/, replacement: src("client/index.ts") },
      { find: /^eventloom\/protocol$/, replacement: src("protocol/index.ts") },
      { find: /^eventloom\/testing$/, replacement: src("testing/index.ts") },
      { find: /^eventloom\/postgres$/, replacement: src("stores/postgres/index.ts") },
      { find: /^eventloom\/react$/, replacement: src("react/index.ts") },
      { find: /^eventloom\/ai-sdk$/, replacement: src("ai-sdk/index.ts") },
      { find: /^eventloom$/, replacement: src("core/index.ts") },
    ],
  },
  test: {
    include: [
      "packages/*/test/**/*.test.ts",
      "packages/*/src/**/*.test.ts",
      "examples/**/*.test.ts",
      "reliability/**/*.test.ts",
    ],
    // Brings Debian's Chromium and PostgreSQL at 127.0.0.1:5432 when missing (see the README's Tests).
    globalSetup: ["packages/eventloom/test/support/global-setup.ts"],
    testTimeout: 30_000,
    // expect.poll waits on a condition; its default 1 s is a timing bet on a busy machine.
    expect: { poll: { timeout: 15_000 } },
    hookTimeout: 30_000,
    pool: "forks",
  },
});
