import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "vite";

const uiRoot = fileURLToPath(new URL("../../", import.meta.url));

/** Builds the UI as `npm run build -w @eventloom/ui` does, into a temporary folder, and returns it. */
export async function buildUi(): Promise<string> {
  const outDir = await mkdtemp(join(tmpdir(), "eventloom-ui-dist-"));
  await build({
    root: uiRoot,
    configFile: join(uiRoot, "vite.config.ts"),
    logLevel: "warn",
    build: { outDir, emptyOutDir: true },
  });
  return outDir;
}
