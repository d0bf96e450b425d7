// Packs the package as `npm publish` would (its prepack builds the debugger and the package), installs
// the tarball into a project outside the repository with only `eventloom` and `zod` (no `pg`), as a
// user would, then: type-checks a strict consumer (`skipLibCheck: false`, nodenext and bundler), serves
// the README's my_server.ts with `npx eventloom serve` and checks the README's curl answers, with the
// lowest and the newest zod 4 the package allows; and with zod 3, `npx eventloom serve` stops at start
// with the one line saying to install zod 4.
//
// Two liberties, both for speed: the installed project is kept under the OS's temp folder, keyed by
// the tarball's hash, and reused while the package does not change; and better-sqlite3's native
// binary is the one the repository's own install built (same version, pinned by `overrides`, same
// Node), because here it cannot be downloaded from GitHub and compiling it takes minutes.
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { copyFile, cp, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type CliProcess, packageDir, repoRoot, watch } from "../cli/cli-process.js";
import { mismatch, readmeCalls, readmeServerFile, readmeShellBlock, resolvePath } from "./readme-calls.js";

const run = promisify(execFile);
const require = createRequire(import.meta.url);
const tsc = require.resolve("typescript/bin/tsc");

/** The lowest zod the package's peer range allows, and the newest 4.x the registry has. */
const ZOD_VERSIONS = [
  { label: "lowest", spec: "4.0.0" },
  { label: "newest", spec: "^4" },
] as const;

/**
 * A project that has zod 3 (npm installs it beside eventloom only with `--legacy-peer-deps`; yarn and
 * pnpm merely warn): the package must stop at start with one line, not answer a 500 later.
 */
const ZOD_3 = { label: "zod3", spec: "^3" } as const;

// The child must see the installed package only: no settings of ours, none of npm's own variables.
function userEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (/^(WORKFLOWS_|TSX_|VITEST|npm_|NODE_OPTIONS$|INIT_CWD$)/i.test(key)) continue;
    env[key] = value;
  }
  return { ...env, ...extra };
}

const exists = (path: string) =>
  stat(path).then(
    () => true,
    () => false,
  );

/** `npm pack` of the package (prepack builds it); resolves with the tarball's path and hash. */
async function pack(into: string): Promise<{ tarball: string; hash: string }> {
  await run("npm", ["pack", "--pack-destination", into], {
    cwd: packageDir,
    env: userEnv(),
    maxBuffer: 64 << 20,
  });
  const name = (await readdir(into)).find((f) => f.endsWith(".tgz"));
  if (!name) throw new Error(`npm pack left no tarball in ${into}`);
  const tarball = join(into, name);
  const hash = createHash("sha256")
    .update(await readFile(tarball))
    .digest("hex")
    .slice(0, 16);
  return { tarball, hash };
}

/** A project with the tarball and zod installed, from the cache when this tarball was installed before. */
async function installedProject(tarball: string, hash: string): Promise<Record<string, string>> {
  const cache = join(tmpdir(), "eventloom-pack-cache");
  await mkdir(cache, { recursive: true });
  // Projects of earlier tarballs are of no more use.
  for (const old of await readdir(cache)) {
    if (!old.startsWith(hash)) await rm(join(cache, old), { recursive: true, force: true });
  }
  const sqlite = JSON.parse(
    await readFile(join(dirname(require.resolve("better-sqlite3/package.json")), "package.json"), "utf8"),
  ) as { version: string };
  const projects: Record<string, string> = {};
  let previous: string | null = null;
  for (const { label, spec } of [...[...ZOD_VERSIONS].reverse(), ZOD_3]) {
    const project = join(cache, `${hash}-zod-${label}`);
    projects[label] = project;
    if (await exists(join(project, ".installed"))) {
      previous = project;
      continue;
    }
    await rm(project, { recursive: true, force: true });
    if (previous) {
      // The same install with another zod: copying it is quicker than installing again.
      await cp(previous, project, { recursive: true, verbatimSymlinks: true });
      await rm(join(project, ".installed"));
      await npm(project, ["install", `zod@${spec}`, ...(spec === ZOD_3.spec ? ["--legacy-peer-deps"] : [])]);
    } else {
      await mkdir(project, { recursive: true });
      await writeFile(
        join(project, "package.json"),
        JSON.stringify({
          name: "app",
          private: true,
          type: "module",
          overrides: { "better-sqlite3": sqlite.version },
        }),
      );
      // @types/node: the consumer of eventloom/server is a Node program (see the README).
      await npm(project, ["install", tarball, `zod@${spec}`]);
      await npm(project, ["install", "-D", "@types/node@^20.19.0"]);
      const release = join(project, "node_modules", "better-sqlite3", "build", "Release");
      await mkdir(release, { recursive: true });
      await copyFile(
        join(
          dirname(require.resolve("better-sqlite3/package.json")),
          "build",
          "Release",
          "better_sqlite3.node",
        ),
        join(release, "better_sqlite3.node"),
      );
    }
    await writeFile(join(project, ".installed"), spec);
    previous = project;
  }
  return projects;
}

function npm(cwd: string, args: string[]) {
  return run("npm", [...args, "--no-audit", "--no-fund", "--prefer-offline", "--ignore-scripts"], {
    cwd,
    env: userEnv(),
    maxBuffer: 64 << 20,
  });
}

/** Runs `npx eventloom serve my_server.ts` in `project` on a free port, as the README says. */
function serve(project: string, env: Record<string, string> = {}): CliProcess {
  const child: ChildProcess = spawn(
    "npx",
    ["eventloom", "serve", "my_server.ts", "--host", "127.0.0.1", "--port", "0"],
    {
      cwd: project,
      env: userEnv(env),
      stdio: ["ignore", "pipe", "pipe"],
      detached: true, // its own process group: npx and the CLI both get the signal
    },
  );
  return watch(child);
}

/** Resolves when every process holding the child's stdout and stderr (npx and the CLI) has let go. */
function pipesClosed(child: ChildProcess): Promise<unknown> {
  const closed = (stream: NodeJS.ReadableStream | null) =>
    new Promise((resolve) => (stream ? stream.once("close", resolve) : resolve(null)));
  return Promise.all([closed(child.stdout), closed(child.stderr)]);
}

const CONSUMER_SERVER = `import { z } from "zod";
import { defineEvent, type EventOf, StartEvent, StopEvent, Workflow } from "eventloom";
import { MemoryStore, SqliteStore, type WorkflowServerOptions, WorkflowServer } from "eventloom/server";
import { type PostgresConnectionOptions, PostgresStore, type PostgresStoreOptions } from "eventloom/postgres";
import { WorkflowClient } from "eventloom/client";

// No type in these public signatures may be \`any\` (from a third party's types or ours).
type IsAny<T> = 0 extends 1 & T ? true : false;
type NotAny<T extends false> = T;

const Hello = defineEvent("Hello", z.object({ name: z.string() }), { extends: StartEvent });
const hello = new Workflow({ name: "hello" }).step(
  "greet",
  { accepts: [Hello], emits: [StopEvent] },
  async (_ctx, ev) => StopEvent.create({ result: ev.data.name.toUpperCase() }),
);
const options: WorkflowServerOptions = { store: new SqliteStore(":memory:") };
const server = new WorkflowServer(options);
server.addWorkflow("hello", hello);
const postgres: PostgresStoreOptions = { schema: "app", listenConnection: { host: "db", ssl: true } };
const connection: PostgresConnectionOptions = { connectionString: "postgres://db/app", max: 4 };
export const stores = [new PostgresStore(connection, postgres), new MemoryStore()];
export const client = new WorkflowClient<{ hello: typeof hello }>({ baseUrl: "http://127.0.0.1:8080" });
export const result = client.runWorkflow("hello", { startEvent: { name: "Ada" } });

export type Checks = [
  NotAny<IsAny<ConstructorParameters<typeof PostgresStore>[0]>>,
  NotAny<IsAny<PostgresStoreOptions["listenConnection"]>>,
  NotAny<IsAny<ConstructorParameters<typeof SqliteStore>[1]>>,
  NotAny<IsAny<Parameters<WorkflowServer["fetch"]>[0]>>,
  NotAny<IsAny<Awaited<ReturnType<WorkflowServer["fetch"]>>>>,
  NotAny<IsAny<Awaited<ReturnType<WorkflowServer["serve"]>>>>,
  NotAny<IsAny<Parameters<WorkflowServer["nodeHandler"]>[0]>>,
  NotAny<IsAny<Parameters<WorkflowServer["nodeHandler"]>[1]>>,
  NotAny<IsAny<Awaited<ReturnType<WorkflowClient["runWorkflow"]>>>>,
  NotAny<IsAny<EventOf<typeof Hello>["data"]["name"]>>,
];
export default server;
`;

// A browser bundle's view: the client and the event definitions, DOM types, no @types/node.
const CONSUMER_BROWSER = `import { z } from "zod";
import { defineEvent, StartEvent } from "eventloom";
import { WorkflowClient, WorkflowClientError } from "eventloom/client";

export const Hello = defineEvent("Hello", z.object({ name: z.string() }), { extends: StartEvent });
const client = new WorkflowClient({ baseUrl: location.origin });
export async function greet(name: string): Promise<unknown> {
  try {
    return (await client.runWorkflow("hello", { startEvent: Hello.create({ name }) })).result;
  } catch (error) {
    if (error instanceof WorkflowClientError) return error.detail;
    throw error;
  }
}
`;

function tsconfig(resolution: "nodenext" | "bundler", browser: boolean, files: string[]) {
  return JSON.stringify({
    compilerOptions: {
      strict: true,
      skipLibCheck: false,
      noEmit: true,
      target: "es2022",
      module: resolution === "nodenext" ? "nodenext" : "esnext",
      moduleResolution: resolution,
      lib: browser ? ["es2023", "dom", "dom.iterable"] : ["es2023"],
      types: browser ? [] : ["node"],
    },
    files,
  });
}

describe("the packed package", { timeout: 180_000 }, () => {
  let readme: string;
  let projects: Record<string, string>;
  let scratch: string;
  const clis: CliProcess[] = [];

  beforeAll(async () => {
    readme = await readFile(join(repoRoot, "README.md"), "utf8");
    scratch = await mkdtemp(join(tmpdir(), "eventloom-pack-"));
    const { tarball, hash } = await pack(scratch);
    projects = await installedProject(tarball, hash);
  }, 900_000);

  afterAll(async () => {
    // The whole group: npx and the CLI under it.
    for (const cli of clis) {
      try {
        process.kill(-(cli.child.pid as number), "SIGKILL");
      } catch {} // already gone
      await cli.exited;
    }
    if (scratch) await rm(scratch, { recursive: true, force: true });
  });

  for (const { label } of ZOD_VERSIONS) {
    // Four compilations: generous for a loaded machine.
    it(`type-checks a strict consumer (nodenext and bundler, skipLibCheck off) with the ${label} zod`, {
      timeout: 600_000,
    }, async () => {
      const project = projects[label] as string;
      await writeFile(join(project, "my_server.ts"), readmeServerFile(readme));
      await mkdir(join(project, "consumer"), { recursive: true });
      await writeFile(join(project, "consumer", "server.ts"), CONSUMER_SERVER);
      await writeFile(join(project, "consumer", "browser.ts"), CONSUMER_BROWSER);
      const checks = (["nodenext", "bundler"] as const).flatMap((resolution) =>
        (["node", "browser"] as const).map(async (kind) => {
          const path = join(project, "consumer", `tsconfig.${resolution}.${kind}.json`);
          const files = kind === "node" ? ["../my_server.ts", "server.ts"] : ["browser.ts"];
          await writeFile(path, tsconfig(resolution, kind === "browser", files));
          const errors = await run(process.execPath, [tsc, "-p", path], { cwd: project }).then(
            () => "",
            (error: { stdout?: string }) => error.stdout ?? String(error),
          );
          return { config: `${resolution}, ${kind}`, errors };
        }),
      );
      for (const { config, errors } of await Promise.all(checks)) expect(errors, config).toBe("");
      // What the consumer did not ask for is not there.
      for (const absent of ["pg", "@types/pg", "@types/better-sqlite3"]) {
        expect(await exists(join(project, "node_modules", absent)), absent).toBe(false);
      }
    });

    it(`serves the README's my_server.ts with npx eventloom serve and answers its curl calls (${label} zod)`, async () => {
      const project = projects[label] as string;
      await writeFile(join(project, "my_server.ts"), readmeServerFile(readme));
      await rm(join(project, ".workflows"), { recursive: true, force: true });
      expect(readmeShellBlock(readme)[0]).toMatch(
        /^npx eventloom serve my_server\.ts\s+# eventloom: serving 2 workflows \(greet, human\)/,
      );

      const cli = serve(project);
      clis.push(cli);
      const url = (await cli.ready()).replace(/\/$/, "");
      expect(cli.stdout()).toContain("serving 2 workflows (greet, human)");

      const bindings = new Map<string, unknown>();
      const calls = readmeCalls(readme);
      expect(calls.length).toBeGreaterThanOrEqual(6);
      for (const call of calls) {
        const target = `${url}${resolvePath(call.path, bindings)}`;
        const init: RequestInit = { method: call.method, headers: call.headers };
        if (call.body !== undefined) init.body = call.body;
        if (call.ndjson) {
          const abort = new AbortController();
          const res = await fetch(target, { ...init, signal: abort.signal });
          expect(res.status, call.line).toBe(200);
          let found: string | null = null;
          let buffered = "";
          const decoder = new TextDecoder();
          for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
            buffered += decoder.decode(chunk, { stream: true });
            const lines = buffered.split("\n");
            buffered = lines.pop() ?? "";
            found =
              lines.find((l) => l.trim() && mismatch(call.expected, JSON.parse(l), bindings) === null) ??
              null;
            if (found) break;
          }
          abort.abort();
          expect(found, call.line).not.toBeNull();
          continue;
        }
        // A run goes on after the event that unblocks it is acknowledged: a result may be 202 a moment.
        const deadline = Date.now() + 15_000;
        for (;;) {
          const res = await fetch(target, init);
          const body = (await res.json()) as unknown;
          const wrong = mismatch(call.expected, body, new Map(bindings));
          if (wrong === null) {
            mismatch(call.expected, body, bindings);
            break;
          }
          if (res.status !== 202 || Date.now() > deadline) {
            expect.fail(`${call.line}\n  answered ${res.status} ${JSON.stringify(body)}\n  ${wrong}`);
          }
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
      }
      expect(bindings.has("H")).toBe(true);

      // The debugger's page, compressed at build time.
      const page = await fetch(`${url}/`, { headers: { "accept-encoding": "br" } });
      expect(page.status).toBe(200);
      expect(page.headers.get("content-type")).toMatch(/text\/html/);
      expect(page.headers.get("content-encoding")).toBe("br");
      expect(page.headers.get("vary")).toBe("Accept-Encoding");

      // The group's SIGTERM reaches npx too, which dies of it at once: the CLI, its child, is done when
      // the pipes they share close, and its last line says it closed the server.
      const closed = pipesClosed(cli.child);
      process.kill(-(cli.child.pid as number), "SIGTERM");
      await closed;
      expect(cli.stdout()).toContain("eventloom: stopped");
      expect(cli.stderr()).toBe("");
    });
  }

  it("without pg installed, WORKFLOWS_DB=postgres://… stops at start with one line naming npm install pg", async () => {
    const project = projects["newest"] as string;
    await writeFile(join(project, "my_server.ts"), readmeServerFile(readme));
    const cli = serve(project, { WORKFLOWS_DB: "postgres://postgres@127.0.0.1:5432/postgres" });
    clis.push(cli);
    const exit = await cli.exited;
    expect(exit.code).toBe(1);
    const lines = cli.stderr().trim().split("\n");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^eventloom: .*`pg` package is not installed: run `npm install pg`$/);
  });

  it("with zod 3 installed, npx eventloom serve stops at start with one line saying to install zod 4", async () => {
    const project = projects[ZOD_3.label] as string;
    const zod = JSON.parse(await readFile(join(project, "node_modules", "zod", "package.json"), "utf8")) as {
      version: string;
    };
    expect(zod.version).toMatch(/^3\./);
    await writeFile(join(project, "my_server.ts"), readmeServerFile(readme));
    const cli = serve(project);
    clis.push(cli);
    const exit = await cli.exited;
    expect(exit.code).toBe(1);
    expect(cli.stdout()).not.toContain("serving");
    const lines = cli.stderr().trim().split("\n");
    expect(lines, cli.stderr()).toHaveLength(1);
    expect(lines[0]).toMatch(/^eventloom: .*needs zod \^4\.0\.0.*run `npm install zod@\^4`$/);
  });

  it("ships its README, LICENSE, a runnable bin, and the sources its source maps point at", async () => {
    const installed = join(projects["newest"] as string, "node_modules", "eventloom");
    expect(await readFile(join(installed, "README.md"), "utf8")).toContain("## Use it in your own project");
    expect(await readFile(join(installed, "LICENSE"), "utf8")).toMatch(/^MIT License/);
    const manifest = JSON.parse(await readFile(join(installed, "package.json"), "utf8")) as Record<
      string,
      unknown
    >;
    expect(manifest).toMatchObject({
      license: "MIT",
      peerDependencies: { zod: "^4.0.0", pg: expect.any(String) },
      peerDependenciesMeta: { pg: { optional: true } },
      repository: expect.anything(),
      homepage: expect.any(String),
      keywords: expect.any(Array),
    });
    for (const dependency of ["pg", "zod", "@types/pg", "@types/better-sqlite3"]) {
      expect(manifest["dependencies"], dependency).not.toHaveProperty(dependency);
    }
    let maps = 0;
    for (const entry of await readdir(join(installed, "dist"), { recursive: true })) {
      if (!entry.endsWith(".map")) continue;
      maps++;
      const map = JSON.parse(await readFile(join(installed, "dist", entry), "utf8")) as { sources: string[] };
      for (const source of map.sources) {
        expect(await exists(join(installed, "dist", dirname(entry), source)), `${entry} → ${source}`).toBe(
          true,
        );
      }
    }
    expect(maps).toBeGreaterThan(50);
    const names = await readdir(join(installed, "src"), { recursive: true });
    expect(names.filter((n) => n.endsWith(".test.ts") || n.endsWith("contract-suite.ts"))).toEqual([]);

    const version = await run(join(installed, "..", ".bin", "eventloom"), ["--version"], { env: userEnv() });
    expect(version.stdout.trim()).toBe(manifest["version"]);
    expect((await stat(join(installed, "bin", "eventloom.js"))).mode & 0o111).not.toBe(0);
  });
});
