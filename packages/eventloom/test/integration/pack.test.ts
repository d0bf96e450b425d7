// Packs the package, installs the tarball in a temporary project and serves a TypeScript file with
// `npx eventloom serve`, as a user would. Slow (a build, and an install that compiles better-sqlite3
// for about two minutes here), so it runs only with WORKFLOWS_PACK_TEST=1:
//   WORKFLOWS_PACK_TEST=1 npx vitest run packages/eventloom/test/integration/pack.test.ts
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import { type CliProcess, packageDir, repoRoot, tempDir, watch } from "../cli/cli-process.js";
import { getJson, postJson } from "../cli/http.js";

const run = promisify(execFile);
const enabled = process.env["WORKFLOWS_PACK_TEST"] === "1";

// The child must see the installed package only: no tsconfig paths, no settings of ours.
function userEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (/^(WORKFLOWS_|TSX_|VITEST|NODE_OPTIONS$)/.test(key)) continue;
    env[key] = value;
  }
  return env;
}

const SERVER_TS = `import { z } from "zod";
import { defineEvent, StartEvent, StopEvent, Workflow } from "eventloom";
import { WorkflowServer } from "eventloom/server";

const Hello = defineEvent("Hello", z.object({ name: z.string().default("World") }), { extends: StartEvent });

const hello = new Workflow({ name: "hello" }).step(
  "greet",
  { accepts: [Hello], emits: [StopEvent] },
  async (_ctx, ev) => StopEvent.create({ result: \`Hello, \${ev.data.name}!\` }),
);

const server = new WorkflowServer();
server.addWorkflow("hello", hello);
export default server;
`;

describe.skipIf(!enabled)("the packed package", { timeout: 900_000 }, () => {
  let project: { path: string; cleanup: () => Promise<void> } | null = null;
  let cli: CliProcess | null = null;
  afterAll(async () => {
    await cli?.kill();
    await project?.cleanup();
  });

  it("installs from its tarball and serves a TypeScript file with npx eventloom serve", async () => {
    const env = userEnv();
    await run("npm", ["run", "build", "-w", "eventloom"], { cwd: repoRoot, env });
    project = await tempDir("eventloom-pack-");
    const packed = await run("npm", ["pack", packageDir, "--pack-destination", project.path, "--json"], {
      cwd: project.path,
      env,
    });
    const [{ filename }] = JSON.parse(packed.stdout) as [{ filename: string }];
    const tarball = join(project.path, filename);

    const app = join(project.path, "app");
    await run("mkdir", ["-p", app]);
    await writeFile(
      join(app, "package.json"),
      JSON.stringify({ name: "app", private: true, type: "module" }),
    );
    const install = ["install", "--no-audit", "--no-fund", tarball];
    try {
      // The repository's install left the dependencies in npm's cache.
      await run("npm", [...install, "--offline"], { cwd: app, env });
    } catch {
      await run("npm", install, { cwd: app, env });
    }
    await writeFile(join(app, "server.ts"), SERVER_TS);

    const child: ChildProcess = spawn(
      "npx",
      ["eventloom", "serve", "server.ts", "--host", "127.0.0.1", "--port", "0"],
      {
        cwd: app,
        env,
        stdio: ["ignore", "pipe", "pipe"],
        detached: true, // its own process group: npx and the CLI both get the signal
      },
    );
    cli = watch(child);
    const url = await cli.ready();
    expect(cli.stdout()).toContain("serving 1 workflow (hello)");
    expect(await getJson(`${url}health`)).toEqual({ status: 200, body: { status: "healthy" } });
    expect(
      (await postJson(`${url}workflows/hello/run`, { start_event: { name: "Pack" } })).body,
    ).toMatchObject({
      status: "completed",
      result: "Hello, Pack!",
    });
    const page = await fetch(url);
    expect(page.status).toBe(200);
    expect(page.headers.get("content-type")).toMatch(/text\/html/);

    process.kill(-(child.pid as number), "SIGTERM");
    await cli.exited;
    expect(cli.stdout()).toContain("eventloom: stopped");

    const version = await run(join(app, "node_modules", ".bin", "eventloom"), ["--version"], {
      cwd: app,
      env,
    });
    const { version: expected } = JSON.parse(await readFile(join(packageDir, "package.json"), "utf8")) as {
      version: string;
    };
    expect(version.stdout.trim()).toBe(expected);
  });
});
