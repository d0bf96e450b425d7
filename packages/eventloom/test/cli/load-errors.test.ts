import { describe, expect, it } from "vitest";
import { describeLoadError, describeServeError, firstLine } from "../../src/cli/index.js";
import { WorkflowError } from "../../src/core/index.js";
import { StoreInUseError } from "../../src/stores/sqlite/index.js";

const withCode = (message: string, code: string) => Object.assign(new Error(message), { code });

describe("describeLoadError", () => {
  it("turns esbuild's transform error into one line with the location", () => {
    const error = new Error('Transform failed with 1 error:\n/tmp/s.ts:1:25: ERROR: Unexpected ";"');
    expect(describeLoadError(error)).toBe('syntax error at /tmp/s.ts:1:25: Unexpected ";"');
  });

  it("explains top-level await in a CommonJS package", () => {
    const error = new Error(
      'Transform failed with 1 error:\n/tmp/s.ts:2:0: ERROR: Top-level await is currently not supported with the "cjs" output format',
    );
    expect(describeLoadError(error)).toMatch(/^top-level await needs an ES module: add "type": "module"/);
  });

  it("says an import failed, keeping only the first line", () => {
    const error = withCode("Cannot find module 'nope'\nRequire stack:\n- /tmp/s.ts", "MODULE_NOT_FOUND");
    expect(describeLoadError(error)).toBe("an import failed: Cannot find module 'nope'");
  });

  it("suggests ESM when a CommonJS file cannot require the ESM-only package", () => {
    const error = withCode(
      'No "exports" main defined in /p/node_modules/workflows/package.json',
      "ERR_PACKAGE_PATH_NOT_EXPORTED",
    );
    expect(describeLoadError(error)).toMatch(/^an import failed: No "exports" main .* add "type": "module"/);
  });

  it("reports what the module's code threw", () => {
    expect(describeLoadError(new TypeError("bad\nmore"))).toBe("it threw TypeError: bad");
  });
});

describe("describeServeError", () => {
  const at = { host: "127.0.0.1", port: 8080 };

  it("says the port is in use", () => {
    expect(describeServeError(withCode("listen EADDRINUSE", "EADDRINUSE"), at)).toBe(
      "port 8080 is already in use on 127.0.0.1 (choose another with --port)",
    );
  });

  it("explains a store that cannot be opened by its cause", () => {
    const error = Object.assign(
      new Error("The store is not available", { cause: new Error("unable to open database file") }),
      {
        code: "STORE_UNAVAILABLE",
      },
    );
    expect(describeServeError(error, at)).toBe("the store could not be opened: unable to open database file");
  });

  it("passes on the line of a SQLite file in use by another process as it is", () => {
    const inUse = new StoreInUseError("/srv/w.db", {
      pid: 41,
      host: "build-7",
      since: "2026-01-01T00:00:00.000Z",
    });
    const error = new WorkflowError("STORE_UNAVAILABLE", "The store is not available", { cause: inUse });
    expect(describeServeError(error, at)).toBe(
      "/srv/w.db is in use by another eventloom process (pid 41 on host build-7 since 2026-01-01T00:00:00.000Z); stop it first, or give this one another file (WORKFLOWS_DB)",
    );
  });
});

describe("firstLine", () => {
  it("skips blank lines and trims", () => {
    expect(firstLine(new Error("\n  first \nsecond"))).toBe("first");
    expect(firstLine("plain")).toBe("plain");
  });
});
