// Tokens per second from a workflow step to a page in Chromium through the AI SDK adapter
// (WorkflowChatTransport), with the deltas kept in memory (ctx.streamText) and stored one by one
// (durable: true), against plain SSE from node:http read by EventSource, alternating in one run.
// Run: npm run bench:frontends   (or: node_modules/.bin/tsx bench/frontends/token-bench.ts [--tokens 20000] [--rounds 5])
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { chromium } from "playwright-core";
import { z } from "zod";
import { defineEvent, StartEvent, StopEvent, Workflow } from "../../packages/eventloom/src/core/index.js";
import { SqliteStore, WorkflowServer } from "../../packages/eventloom/src/server/index.js";

const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(name);
  const v = i > 0 ? Number(process.argv[i + 1]) : fallback;
  if (!Number.isInteger(v) || v < 1) throw new Error(`${name} takes a positive whole number`);
  return v;
};
const TOKENS = arg("--tokens", 20_000);
const ROUNDS = arg("--rounds", 5);
const TOKEN = "tok ";
// The source yields to the event loop every BATCH tokens, as a model's network chunks would.
const BATCH = 50;
const turn = () => new Promise((resolve) => setImmediate(resolve));

async function* tokens(n: number): AsyncGenerator<string> {
  for (let i = 0; i < n; i++) {
    if (i % BATCH === BATCH - 1) await turn();
    yield TOKEN;
  }
}

const TokensStart = defineEvent(
  "TokensStart",
  z.object({ tokens: z.number(), durable: z.boolean(), key: z.string() }),
  {
    extends: StartEvent,
  },
);
// The step streams once the page says it reads the run (GET /go?key=…, once it got Ready), so that
// the time is the stream's, from the step's first token to the page's last.
const Ready = defineEvent("Ready", z.object({ key: z.string() }));
const go = new Map<string, () => void>();
const streaming = new Workflow({ name: "tokens", timeout: null }).step(
  "stream",
  { accepts: [TokensStart], emits: [StopEvent] },
  async (ctx, ev) => {
    const reading = new Promise<void>((resolve) => go.set(ev.data.key, resolve));
    ctx.writeEventToStream(Ready.create({ key: ev.data.key }));
    await reading;
    const text = await ctx.streamText(tokens(ev.data.tokens), { durable: ev.data.durable });
    return StopEvent.create({ result: text.length });
  },
);

const dir = mkdtempSync(join(tmpdir(), "eventloom-frontends-"));
const server = new WorkflowServer({
  store: new SqliteStore(join(dir, "bench.db")),
  token: "",
  corsOrigins: "*",
});
server.addWorkflow("tokens", streaming);
const api = (await server.serve({ host: "127.0.0.1", port: 0 })).url;

const page = await build({
  entryPoints: [fileURLToPath(new URL("./page.ts", import.meta.url))],
  bundle: true,
  format: "esm",
  platform: "browser",
  target: "es2022",
  write: false,
  minify: true,
  logLevel: "silent",
});
const script = page.outputFiles[0]?.text ?? "";
const html = `<!doctype html><meta charset="utf-8"><script type="module" src="/page.js"></script>`;

// The page, and the baseline: the same tokens as plain SSE frames, written as the step writes them.
const host = createServer(async (req, res) => {
  const url = new URL(req.url ?? "/", "http://x");
  if (url.pathname === "/") res.writeHead(200, { "content-type": "text/html" }).end(html);
  else if (url.pathname === "/go") {
    go.get(url.searchParams.get("key") ?? "")?.();
    res.writeHead(204).end();
  } else if (url.pathname === "/page.js")
    res.writeHead(200, { "content-type": "text/javascript" }).end(script);
  else if (url.pathname === "/sse") {
    res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
    // one write per batch the source gives between two turns of the event loop (as the server does)
    let frames = "";
    let i = 0;
    for await (const token of tokens(Number(url.searchParams.get("n")))) {
      frames += `data: ${token}\n\n`;
      if (++i % BATCH === BATCH - 1) {
        res.write(frames);
        frames = "";
      }
    }
    res.end(`${frames}event: done\ndata: \n\n`);
  } else res.writeHead(404).end();
});
await new Promise<void>((resolve) => host.listen(0, "127.0.0.1", resolve));
const origin = `http://127.0.0.1:${(host.address() as AddressInfo).port}`;

const browser = await chromium.launch({
  executablePath: process.env["CHROMIUM_PATH"] ?? "/usr/bin/chromium",
  headless: true,
  args: ["--no-sandbox", "--disable-gpu"],
});
const tab = await browser.newPage();
tab.on("pageerror", (e) => console.error("page error:", e.message));
tab.on("crash", () => console.error("the page crashed"));
if (process.env["BENCH_DEBUG"]) tab.on("console", (m) => console.error("page:", m.text()));
await tab.goto(`${origin}/`);
await tab.waitForFunction(() => "bench" in window);

type Variant = "sse" | "events" | "live" | "durable";
const variants: Variant[] = ["sse", "events", "live", "durable"];
const run = (v: Variant) =>
  v === "sse"
    ? tab.evaluate((u) => window.bench.sse(u), `${origin}/sse?n=${TOKENS}`)
    : v === "events"
      ? tab.evaluate(([a, n]) => window.bench.events(a, n), [api, TOKENS] as const)
      : tab.evaluate(([a, n, d]) => window.bench.adapter(a, n, d), [api, TOKENS, v === "durable"] as const);

const perSecond: Record<Variant, number[]> = { sse: [], events: [], live: [], durable: [] };
for (let round = 1; round <= ROUNDS; round++) {
  // a different order each round, so that no variant always runs on a warmer (or busier) machine
  const order = variants.map((_, i) => variants[(i + round) % variants.length] as Variant);
  const line: string[] = [];
  for (const v of order) {
    const { ms, chars } = await run(v);
    if (chars !== TOKENS * TOKEN.length)
      throw new Error(`${v}: ${chars} characters, expected ${TOKENS * TOKEN.length}`);
    perSecond[v].push((TOKENS / ms) * 1000);
    line.push(`${v} ${Math.round((TOKENS / ms) * 1000)}/s`);
  }
  console.log(`round ${round}: ${line.join(", ")}`);
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
};
// round 1 warms up (JIT, SQLite's file, the page's code) and is left out when there are more
const kept = (v: Variant) => (ROUNDS > 1 ? perSecond[v].slice(1) : perSecond[v]);
const base = median(kept("sse"));
console.log(
  `\n${TOKENS} tokens of ${JSON.stringify(TOKEN)} from a step to Chromium, median of rounds ${ROUNDS > 1 ? 2 : 1}–${ROUNDS}:`,
);
for (const v of variants) {
  const m = median(kept(v));
  const label = {
    sse: "plain SSE (node:http → EventSource)",
    events: "GET /events?include_deltas (→ EventSource)",
    live: "adapter, ctx.streamText (in memory)",
    durable: "adapter, durable: true (a stored event per token)",
  }[v];
  console.log(
    `  ${label.padEnd(52)} ${String(Math.round(m)).padStart(8)} tokens/s  ${(m / base).toFixed(2)} of plain SSE`,
  );
}

await browser.close();
await server.close();
host.close();
rmSync(dir, { recursive: true, force: true });
