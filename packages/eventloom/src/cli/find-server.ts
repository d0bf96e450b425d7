import { CliError } from "./cli-error.js";
import type { CliLogger } from "./cli-logger.js";

/** The brand every WorkflowServer carries, shared by every copy of the package through the global registry. */
export const SERVER_BRAND: symbol = Symbol.for("eventloom.WorkflowServer");

/** What the CLI needs of a WorkflowServer; found by its brand, not `instanceof`. */
export interface ServableServer {
  serve(options: {
    host: string;
    port: number;
    logger?: CliLogger;
  }): Promise<{ host: string; port: number; url: string }>;
  close(): Promise<void>;
  readonly workflowNames?: readonly string[];
}

/** True for a WorkflowServer, even one created by another copy of the package. */
export function isBrandedServer(value: unknown): value is ServableServer {
  return (
    typeof value === "object" &&
    value !== null &&
    (value as Record<symbol, unknown>)[SERVER_BRAND] === true &&
    typeof (value as ServableServer).serve === "function" &&
    typeof (value as ServableServer).close === "function"
  );
}

/** A server and the export it was found under. */
export interface FoundServer {
  server: ServableServer;
  exportName: string;
}

/**
 * Picks the server a module exports: its default export, else its only exported instance (one
 * instance under several names counts once). Throws a {@link CliError} naming the exports when there
 * is none or more than one.
 */
export function findServer(namespace: Record<string, unknown>, file: string): FoundServer {
  if (isBrandedServer(namespace["default"])) return { server: namespace["default"], exportName: "default" };
  // A TypeScript file loaded as CommonJS: its `export`s are properties of `module.exports`, the default.
  const commonJs = namespace["default"] as Record<string, unknown> | null | undefined;
  if (typeof commonJs === "object" && commonJs !== null && commonJs["__esModule"] === true) {
    const { __esModule: _, ...exports } = commonJs;
    return findServer(exports, file);
  }

  const byInstance = new Map<ServableServer, string[]>();
  for (const [name, value] of Object.entries(namespace)) {
    if (name === "default" || !isBrandedServer(value)) continue;
    byInstance.set(value, [...(byInstance.get(value) ?? []), name]);
  }
  const found = [...byInstance.entries()];
  if (found.length === 1) {
    const [server, names] = found[0] as [ServableServer, string[]];
    return { server, exportName: names[0] as string };
  }
  if (found.length > 1) {
    const names = found.map(([, n]) => n.join("/")).join(", ");
    throw new CliError(
      `${file} exports ${found.length} WorkflowServers (${names}): export the one to serve as default`,
    );
  }
  const exported = Object.keys(namespace);
  const listed = exported.length > 0 ? `its exports: ${exported.join(", ")}` : "it exports nothing";
  throw new CliError(
    `${file} exports no WorkflowServer (${listed}); add \`export default server\` for your WorkflowServer`,
  );
}
