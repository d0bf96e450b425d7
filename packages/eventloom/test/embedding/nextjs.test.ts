// docs/EMBEDDING.md's Next.js files in a real Next.js app (`next dev`, App Router), outside the
// repository: the guide's route handler, instrumentation and config, unchanged, with the package as an
// installed app would have it in node_modules. A run left running in the SQLite file resumes once Next
// starts, before any request; then the real client drives the server under /api/workflows through Next.
//
// Liberties, for speed: Next.js, React and TypeScript are installed once into a project under the OS's
// temp folder and reused; the package in its node_modules is the sources compiled by esbuild (one file
// for each, as tsc emits them, without types or the debugger's build), with its dependencies copied
// from the repository's node_modules (better-sqlite3's native binary cannot be downloaded here).
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { cp, mkdir, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import Database from "better-sqlite3";
import { build } from "esbuild";
import { defineEvent, StartEvent, StopEvent, Workflow } from "eventloom";
import { WorkflowClient } from "eventloom/client";
import { SqliteStore, WorkflowServer } from "eventloom/server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { type CliProcess, packageDir, repoRoot, watch } from "../cli/cli-process.js";
import { NEXT_FILES, writeGuideFiles } from "./guide-files.js";

const run = promisify(execFile);

/** What the cached project installs: Next.js 16 (Node >= 20.9) and what it needs for TypeScript. */
const NEXT_PACKAGES = [
  "next@16.5.0",
  "react@19",
  "react-dom@19",
  "typescript@~5.9.3",
  "@types/react@19",
  "@types/node@^20.19.0",
];
/** The package's runtime dependencies, copied from the repository (better-sqlite3's with it). */
const COPIED = [
  "hono",
  "@hono/node-server",
  "better-sqlite3",
  "bindings",
  "file-uri-to-path",
  "zod",
  "croner",
];
const BASE = "/api/workflows";

// Next must see the project only: none of our settings, none of npm's or vitest's variables.
function appEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (/^(WORKFLOWS_|TSX_|VITEST|npm_|NODE_OPTIONS$|INIT_CWD$|NODE_ENV$|PORT$)/i.test(key)) continue;
    env[key] = value;
  }
  return { ...env, NEXT_TELEMETRY_DISABLED: "1", ...extra };
}

const exists = (path: string) =>
  stat(path).then(
    () => true,
    () => false,
  );

/** The project with Next.js installed, from the cache when it was installed before. */
async function nextProject(): Promise<string> {
  const project = join(tmpdir(), "eventloom-nextjs-cache");
  const marker = join(project, ".installed");
  if ((await exists(marker)) && (await readFile(marker, "utf8")) === NEXT_PACKAGES.join(" ")) return project;
  await rm(project, { recursive: true, force: true });
  await mkdir(project, { recursive: true });
  await writeFile(
    join(project, "package.json"),
    JSON.stringify({ name: "app", private: true, type: "module" }),
  );
  await run("npm", ["install", ...NEXT_PACKAGES, "--no-audit", "--no-fund", "--prefer-offline"], {
    cwd: project,
    env: appEnv(),
    maxBuffer: 64 << 20,
  });
  await writeFile(marker, NEXT_PACKAGES.join(" "));
  return project;
}

/** `eventloom` in the project's node_modules: its package.json, its sources compiled, its dependencies. */
async function installPackage(project: string): Promise<void> {
  const modules = join(project, "node_modules");
  const target = join(modules, "eventloom");
  await rm(target, { recursive: true, force: true });
  await mkdir(target, { recursive: true });
  await cp(join(packageDir, "package.json"), join(target, "package.json"));
  const src = join(packageDir, "src");
  const entryPoints = (await readdir(src, { recursive: true }))
    .filter((f) => f.endsWith(".ts") && !f.endsWith(".test.ts") && !f.endsWith(".d.ts"))
    .map((f) => join(src, f));
  await build({
    entryPoints,
    outdir: join(target, "dist"),
    format: "esm",
    platform: "node",
    target: "node20",
  });
  for (const name of COPIED) {
    const from = (await exists(join(packageDir, "node_modules", name)))
      ? join(packageDir, "node_modules", name)
      : join(repoRoot, "node_modules", name);
    await rm(join(modules, name), { recursive: true, force: true });
    await cp(from, join(modules, name), { recursive: true, dereference: true });
  }
}

/** A SQLite file holding a run of the guide's `greet` left running: its step was in flight at shutdown. */
async function fileWithARunningRun(path: string): Promise<string> {
  const Greet = defineEvent("Greet", z.object({ name: z.string() }), { extends: StartEvent });
  let entered: () => void = () => {};
  const inStep = new Promise<void>((resolve) => {
    entered = resolve;
  });
  const never = new Promise<never>(() => {});
  const greet = new Workflow({ name: "GreetWorkflow" }).step(
    "greet",
    { accepts: [Greet], emits: [StopEvent] },
    async () => {
      entered();
      return never;
    },
  );
  const server = new WorkflowServer({ store: new SqliteStore(path), token: "" });
  server.addWorkflow("greet", greet);
  const res = await server.fetch(
    new Request("http://localhost/workflows/greet/run-nowait", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ start_event: { name: "Stored" } }),
    }),
  );
  const { handler_id } = (await res.json()) as { handler_id: string };
  await inStep;
  await server.close();
  return handler_id;
}

/** A handler's status read from the file itself, beside the process that holds it. */
function statusInFile(path: string, handlerId: string): string | undefined {
  const db = new Database(path, { readonly: true, fileMustExist: true });
  try {
    const row = db.prepare("SELECT status FROM handlers WHERE handler_id = ?").get(handlerId) as
      | { status: string }
      | undefined;
    return row?.status;
  } finally {
    db.close();
  }
}

describe("the guide's Next.js route handler in next dev", { timeout: 120_000 }, () => {
  let project: string;
  let next: CliProcess | null = null;
  let origin: string;
  let db: string;
  let stored: string;

  beforeAll(async () => {
    project = await nextProject();
    for (const leftover of [".next", "app", ".workflows", "next-env.d.ts", "tsconfig.json"]) {
      await rm(join(project, leftover), { recursive: true, force: true });
    }
    await installPackage(project);
    await writeGuideFiles(NEXT_FILES, project);
    await mkdir(join(project, ".workflows"), { recursive: true });
    db = join(project, ".workflows", "workflows.db");
    stored = await fileWithARunningRun(db);
    expect(statusInFile(db, stored)).toBe("running");

    const child: ChildProcess = spawn(
      process.execPath,
      [join(project, "node_modules", "next", "dist", "bin", "next"), "dev", "-H", "127.0.0.1", "-p", "0"],
      { cwd: project, env: appEnv(), stdio: ["ignore", "pipe", "pipe"], detached: true },
    );
    next = watch(child);
    const local = await next.waitForLine(/Local:\s+(http:\/\/\S+)/, 90_000);
    origin = (local[1] as string).replace(/\/$/, "");
  }, 600_000);

  afterAll(async () => {
    if (next?.child.pid) {
      // The whole group: next and the server process it starts.
      try {
        process.kill(-next.child.pid, "SIGTERM");
      } catch {} // already gone
      await next.exited;
    }
  });

  it("resumes the run stored as running when Next starts, before any request", async () => {
    await expect.poll(() => statusInFile(db, stored), { timeout: 60_000 }).toBe("completed");
  });

  it("lists, runs with the start event it was sent, and streams events under /api/workflows", async () => {
    const client = new WorkflowClient({ baseUrl: `${origin}${BASE}` });
    expect(await client.listWorkflows()).toEqual(["greet"]);
    const done = await client.runWorkflow("greet", { startEvent: { name: "Ada" } });
    expect(done.result).toBe("Hello, Ada!");
    const types: string[] = [];
    for await (const envelope of client.getWorkflowEvents(done.handlerId)) types.push(envelope.type);
    expect(types).toContain("StopEvent");
    expect((await client.getResult(stored)).result).toBe("Hello, Stored!");
  });

  it("serves the debugger's page at /api/workflows with a <base>, and /api/workflows/ without a redirect loop", async () => {
    const bare = await fetch(`${origin}${BASE}`);
    expect(bare.status).toBe(200);
    expect(await bare.text()).toContain('<base href="workflows/">');
    // Next.js sends /api/workflows/ to /api/workflows (its trailingSlash default); the page loads there.
    const slash = await fetch(`${origin}${BASE}/`);
    expect(slash.status).toBe(200);
    expect(slash.headers.get("content-type")).toMatch(/^text\/html/);
  });

  it("answers a path under it that names no route with the server's JSON 404", async () => {
    const res = await fetch(`${origin}${BASE}/nope`);
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({ code: "NOT_FOUND" });
  });

  it("type-checks the guide's Next.js files under strict TypeScript with Next's own types", {
    timeout: 300_000,
  }, async () => {
    const src = (path: string) => join(packageDir, "src", path);
    await writeFile(
      join(project, "tsconfig.check.json"),
      JSON.stringify({
        compilerOptions: {
          strict: true,
          noEmit: true,
          skipLibCheck: true,
          target: "es2022",
          module: "esnext",
          moduleResolution: "bundler",
          lib: ["es2023", "dom", "dom.iterable"],
          types: ["node"],
          paths: { eventloom: [src("core/index.ts")], "eventloom/server": [src("server/index.ts")] },
        },
        files: NEXT_FILES,
      }),
    );
    const tsc = join(project, "node_modules", "typescript", "bin", "tsc");
    const errors = await run(process.execPath, [tsc, "-p", join(project, "tsconfig.check.json")], {
      cwd: project,
    }).then(
      () => "",
      (error: { stdout?: string }) => error.stdout ?? String(error),
    );
    expect(errors).toBe("");
  });
});
