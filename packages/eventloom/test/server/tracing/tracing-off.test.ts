// Tracing off costs nothing: no module the server loads statically imports OpenTelemetry. Only the
// tracing modules that load-tracing.ts imports dynamically, once tracing is on, do.
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { expect, test } from "vitest";
import { tracingWanted } from "../../../src/server/tracing/index.js";

const src = fileURLToPath(new URL("../../../src", import.meta.url));
const LOADED_WHEN_ON = [
  "server/tracing/otel-tracing.ts",
  "server/tracing/own-sdk.ts",
  "server/tracing/run-trace.ts",
];

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? files(join(dir, e.name)) : e.name.endsWith(".ts") ? [join(dir, e.name)] : [],
  );
}

/** `import … from "x"` and `export … from "x"` that are not type-only, with their specifier. */
function valueImports(text: string): string[] {
  const found: string[] = [];
  for (const m of text.matchAll(/^(?:import|export)\s+(?!type\s)[^;]*?from\s+"([^"]+)"/gms))
    found.push(m[1] as string);
  return found;
}

test("only the modules loaded once tracing is on import OpenTelemetry, and they are imported dynamically", () => {
  for (const file of files(src)) {
    const name = relative(src, file);
    const text = readFileSync(file, "utf8");
    const otel = valueImports(text).filter((s) => s.startsWith("@opentelemetry/"));
    if (!LOADED_WHEN_ON.includes(name)) expect(otel, name).toEqual([]);
    for (const loaded of LOADED_WHEN_ON) {
      const base = loaded.split("/").pop()?.replace(/\.ts$/, ".js") as string;
      const statically = valueImports(text).some((s) => s.endsWith(`/${base}`));
      if (!LOADED_WHEN_ON.includes(name)) expect(statically, `${name} imports ${base}`).toBe(false);
    }
  }
  const loader = readFileSync(join(src, "server/tracing/load-tracing.ts"), "utf8");
  expect(loader).toContain('await import("./otel-tracing.js")');
});

test("tracing is on with an OTLP endpoint or the option, off without, and OTEL_SDK_DISABLED turns it off", () => {
  expect(tracingWanted(undefined, {})).toBe(false);
  expect(tracingWanted(undefined, { OTEL_EXPORTER_OTLP_ENDPOINT: "http://127.0.0.1:4318" })).toBe(true);
  expect(tracingWanted(undefined, { OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: "http://x:4318/v1/traces" })).toBe(
    true,
  );
  expect(
    tracingWanted(undefined, { OTEL_EXPORTER_OTLP_ENDPOINT: "http://x:4318", OTEL_SDK_DISABLED: "true" }),
  ).toBe(false);
  expect(tracingWanted(true, {})).toBe(true);
  expect(tracingWanted(false, { OTEL_EXPORTER_OTLP_ENDPOINT: "http://x:4318" })).toBe(false);
});
