import { describe, expect, it } from "vitest";
import { CliError, parseCliArgs, USAGE_EXIT_CODE } from "../../src/cli/index.js";

const serve = (argv: string[], env: NodeJS.ProcessEnv = {}) => {
  const parsed = parseCliArgs(argv, env);
  if (parsed.command !== "serve") throw new Error(`expected serve, got ${parsed.command}`);
  return parsed;
};

const usageError = (argv: string[], env: NodeJS.ProcessEnv = {}): CliError => {
  try {
    parseCliArgs(argv, env);
  } catch (error) {
    if (error instanceof CliError) return error;
    throw error;
  }
  throw new Error("expected a CliError");
};

describe("parseCliArgs", () => {
  it("defaults to 0.0.0.0:8080", () => {
    expect(serve(["serve", "server.ts"])).toEqual({
      command: "serve",
      file: "server.ts",
      host: "0.0.0.0",
      port: 8080,
      logLevel: "info",
      logFormat: "text",
    });
  });

  it("takes the log level and format from the flags, else WORKFLOWS_LOG_LEVEL/FORMAT, and refuses others", () => {
    expect(serve(["serve", "s.ts", "--log-level", "debug", "--log-format=json"])).toMatchObject({
      logLevel: "debug",
      logFormat: "json",
    });
    const env = { WORKFLOWS_LOG_LEVEL: "WARN", WORKFLOWS_LOG_FORMAT: "json" };
    expect(serve(["serve", "s.ts"], env)).toMatchObject({ logLevel: "warn", logFormat: "json" });
    expect(serve(["serve", "s.ts", "--log-level", "error"], env).logLevel).toBe("error");
    expect(serve(["serve", "s.ts"], { WORKFLOWS_LOG_LEVEL: "" }).logLevel).toBe("info");
    const bad = usageError(["serve", "s.ts", "--log-level", "verbose"]);
    expect(bad.exitCode).toBe(USAGE_EXIT_CODE);
    expect(bad.message).toContain(
      'Invalid value "verbose" from --log-level: expected one of error, warn, info, debug',
    );
    expect(usageError(["serve", "s.ts"], { WORKFLOWS_LOG_FORMAT: "xml" }).message).toContain(
      "WORKFLOWS_LOG_FORMAT",
    );
  });

  it("refuses a WORKFLOWS_WIRE that names no dialect before the file loads", () => {
    expect(serve(["serve", "s.ts"], { WORKFLOWS_WIRE: "llama-agents" }).command).toBe("serve");
    expect(serve(["serve", "s.ts"], { WORKFLOWS_WIRE: "" }).command).toBe("serve");
    const bad = usageError(["serve", "s.ts"], { WORKFLOWS_WIRE: "llama" });
    expect(bad.exitCode).toBe(USAGE_EXIT_CODE);
    expect(bad.message).toContain(
      'Invalid value "llama" from WORKFLOWS_WIRE: expected one of seed, llama-agents',
    );
  });

  it("takes --host and --port, in either position and with =", () => {
    expect(serve(["serve", "--host", "127.0.0.1", "s.ts", "--port=9000"])).toMatchObject({
      file: "s.ts",
      host: "127.0.0.1",
      port: 9000,
    });
  });

  it("accepts port 0 (any free port)", () => {
    expect(serve(["serve", "s.ts", "--port", "0"]).port).toBe(0);
  });

  it("prefers flags to WORKFLOWS_SERVER_* to WORKFLOWS_PY_SERVER_*", () => {
    const all = {
      WORKFLOWS_SERVER_HOST: "10.0.0.1",
      WORKFLOWS_SERVER_PORT: "7001",
      WORKFLOWS_PY_SERVER_HOST: "10.0.0.2",
      WORKFLOWS_PY_SERVER_PORT: "7002",
    };
    expect(serve(["serve", "s.ts", "--host", "::1", "--port", "7000"], all)).toMatchObject({
      host: "::1",
      port: 7000,
    });
    expect(serve(["serve", "s.ts"], all)).toMatchObject({ host: "10.0.0.1", port: 7001 });
    expect(
      serve(["serve", "s.ts"], { WORKFLOWS_PY_SERVER_HOST: "10.0.0.2", WORKFLOWS_PY_SERVER_PORT: "7002" }),
    ).toMatchObject({ host: "10.0.0.2", port: 7002 });
  });

  it("resolves host and port independently", () => {
    expect(
      serve(["serve", "s.ts", "--port", "7000"], {
        WORKFLOWS_SERVER_HOST: "10.0.0.1",
        WORKFLOWS_PY_SERVER_PORT: "7002",
      }),
    ).toMatchObject({ host: "10.0.0.1", port: 7000 });
    expect(serve(["serve", "s.ts"], { WORKFLOWS_PY_SERVER_PORT: "7002" })).toMatchObject({
      host: "0.0.0.0",
      port: 7002,
    });
  });

  it("treats empty environment variables as unset", () => {
    expect(
      serve(["serve", "s.ts"], {
        WORKFLOWS_SERVER_PORT: "",
        WORKFLOWS_SERVER_HOST: " ",
        WORKFLOWS_PY_SERVER_PORT: "7002",
      }),
    ).toMatchObject({ host: "0.0.0.0", port: 7002 });
  });

  it("answers --help, -h, help, --version and -v", () => {
    expect(parseCliArgs(["--help"])).toEqual({ command: "help" });
    expect(parseCliArgs(["serve", "-h"])).toEqual({ command: "help" });
    expect(parseCliArgs(["help"])).toEqual({ command: "help" });
    expect(parseCliArgs(["--version"])).toEqual({ command: "version" });
    expect(parseCliArgs(["-v"])).toEqual({ command: "version" });
  });

  it.each([
    [[], /Missing command/],
    [["run", "s.ts"], /Unknown command "run"/],
    [["serve"], /Missing file/],
    [["serve", "a.ts", "b.ts"], /Unexpected argument "b.ts"/],
    [["serve", "s.ts", "--verbose"], /verbose/],
    [["serve", "s.ts", "--port"], /port/],
    [["serve", "s.ts", "--port", "http"], /Invalid port "http" from --port/],
    [["serve", "s.ts", "--port", "65536"], /Invalid port "65536"/],
    [["serve", "s.ts", "--port", "-1"], /port/],
    [["serve", "s.ts", "--host", ""], /--host needs a value/],
  ])("rejects %j with a usage error", (argv, message) => {
    const error = usageError(argv);
    expect(error.exitCode).toBe(USAGE_EXIT_CODE);
    expect(error.message).toMatch(message);
    expect(error.message).not.toContain("\n");
  });

  it("names the environment variable that holds a bad port", () => {
    expect(usageError(["serve", "s.ts"], { WORKFLOWS_SERVER_PORT: "80a" }).message).toMatch(
      /Invalid port "80a" from WORKFLOWS_SERVER_PORT/,
    );
    expect(usageError(["serve", "s.ts"], { WORKFLOWS_PY_SERVER_PORT: "x" }).message).toMatch(
      /WORKFLOWS_PY_SERVER_PORT/,
    );
  });

  it("does not read a bad environment port when a flag gives the port", () => {
    expect(serve(["serve", "s.ts", "--port", "1"], { WORKFLOWS_SERVER_PORT: "bad" }).port).toBe(1);
  });
});
