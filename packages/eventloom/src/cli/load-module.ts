import { stat } from "node:fs/promises";
import { extname } from "node:path";
import { pathToFileURL } from "node:url";
import { CliError, firstLine } from "./cli-error.js";

let registered: Promise<void> | null = null;

/** Files Node cannot load by itself: tsx compiles them. */
export const TYPESCRIPT_EXTENSIONS: readonly string[] = [".ts", ".mts", ".cts", ".tsx"];

/**
 * Teaches Node to load TypeScript, once per process, and only when a TypeScript file is served: tsx
 * (and esbuild under it) is not loaded at all for a JavaScript file. Both loaders are needed: a `.ts`
 * file in a package without `"type": "module"` is loaded as CommonJS. They stay registered because
 * the user's code may import more TypeScript later.
 */
function registerTypeScript(): Promise<void> {
  registered ??= (async () => {
    const [cjs, esm] = await Promise.all([import("tsx/cjs/api"), import("tsx/esm/api")]);
    cjs.register();
    esm.register();
  })();
  return registered;
}

/**
 * Imports the user's file (TypeScript or JavaScript, no build step) and returns its exports.
 * Throws a {@link CliError} with one line saying why when it is missing or does not load.
 * `shown` is the name to use in messages (the path as the user typed it).
 */
export async function loadUserModule(path: string, shown: string): Promise<Record<string, unknown>> {
  const info = await stat(path).catch(() => null);
  if (!info) throw new CliError(`${shown}: file not found`);
  if (!info.isFile()) throw new CliError(`${shown}: not a file`);
  try {
    if (TYPESCRIPT_EXTENSIONS.includes(extname(path).toLowerCase())) await registerTypeScript();
    return (await import(pathToFileURL(path).href)) as Record<string, unknown>;
  } catch (error) {
    throw new CliError(`${shown} does not load: ${describeLoadError(error)}`, { cause: error });
  }
}

const CJS_HINT =
  ' (if the file is loaded as CommonJS, add "type": "module" to package.json or rename it to .mts)';

/** One line saying why a module did not load: a syntax error, a failed import, or what its code threw. */
export function describeLoadError(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  const message = error instanceof Error ? error.message : String(error);
  // esbuild (through tsx): "Transform failed with 1 error:\n/path/file.ts:1:25: ERROR: Unexpected ";""
  const esbuild = /^(.*?):(\d+):(\d+): ERROR: (.*)$/m.exec(message);
  if (message.startsWith("Transform failed") && esbuild) {
    const [, where, line, column, what] = esbuild;
    if (/top-level await/i.test(what ?? "")) {
      return `top-level await needs an ES module: add "type": "module" to package.json or rename the file to .mts (${where}:${line}:${column})`;
    }
    return `syntax error at ${where}:${line}:${column}: ${what}`;
  }
  if (code === "ERR_MODULE_NOT_FOUND" || code === "MODULE_NOT_FOUND") {
    return `an import failed: ${firstLine(error)}`;
  }
  if (code === "ERR_REQUIRE_ASYNC_MODULE") {
    return `top-level await needs an ES module: add "type": "module" to package.json or rename the file to .mts`;
  }
  if (code === "ERR_PACKAGE_PATH_NOT_EXPORTED" || code === "ERR_UNSUPPORTED_DIR_IMPORT") {
    // The package's exports are ESM-only: a file loaded as CommonJS cannot require it.
    const hint = /No "exports" main|not defined by "exports"/.test(message) ? CJS_HINT : "";
    return `an import failed: ${firstLine(error)}${hint}`;
  }
  if (error instanceof SyntaxError) return `SyntaxError: ${firstLine(error)}`;
  const name = error instanceof Error ? error.name : "error";
  return `it threw ${name}: ${firstLine(error)}`;
}
