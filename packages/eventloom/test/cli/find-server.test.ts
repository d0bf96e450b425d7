import { describe, expect, it } from "vitest";
import { CliError, findServer, isBrandedServer, SERVER_BRAND } from "../../src/cli/index.js";
import { MemoryStore, WorkflowServer } from "../../src/server/index.js";

const server = () => new WorkflowServer({ store: new MemoryStore() });

const failure = (namespace: Record<string, unknown>): CliError => {
  try {
    findServer(namespace, "app.ts");
  } catch (error) {
    if (error instanceof CliError) return error;
    throw error;
  }
  throw new Error("expected a CliError");
};

describe("findServer", () => {
  it("recognises a WorkflowServer by its brand", () => {
    expect(isBrandedServer(server())).toBe(true);
    expect(isBrandedServer({ serve() {}, close() {} })).toBe(false);
    expect(isBrandedServer(null)).toBe(false);
  });

  it("recognises a server from another copy of the package (brand, not instanceof)", () => {
    const foreign = {
      [Symbol.for("eventloom.WorkflowServer")]: true,
      serve: async () => ({}),
      close: async () => {},
    };
    expect(SERVER_BRAND).toBe(Symbol.for("eventloom.WorkflowServer"));
    expect(findServer({ app: foreign }, "app.ts").server).toBe(foreign);
  });

  it("takes the default export first, even with other servers exported", () => {
    const main = server();
    expect(findServer({ default: main, other: server() }, "app.ts")).toEqual({
      server: main,
      exportName: "default",
    });
  });

  it("takes the only exported instance when the default is not a server", () => {
    const only = server();
    expect(findServer({ default: 42, app: only, name: "x" }, "app.ts")).toEqual({
      server: only,
      exportName: "app",
    });
  });

  it("counts one instance exported under several names once", () => {
    const only = server();
    expect(findServer({ a: only, b: only }, "app.ts").server).toBe(only);
  });

  it("looks inside module.exports of a TypeScript file loaded as CommonJS", () => {
    const only = server();
    expect(findServer({ default: { __esModule: true, default: only } }, "app.ts")).toEqual({
      server: only,
      exportName: "default",
    });
    expect(findServer({ default: { __esModule: true, app: only } }, "app.ts").exportName).toBe("app");
  });

  it("refuses several servers and names them", () => {
    const error = failure({ one: server(), two: server(), other: 1 });
    expect(error.message).toBe(
      "app.ts exports 2 WorkflowServers (one, two): export the one to serve as default",
    );
    expect(error.exitCode).toBe(1);
  });

  it("says when no server is exported, listing the exports", () => {
    expect(failure({ default: {}, greet: {} }).message).toMatch(
      /^app\.ts exports no WorkflowServer \(its exports: default, greet\)/,
    );
    expect(failure({}).message).toMatch(/it exports nothing/);
  });
});
