// Serves the chat example on one port: the page (app.tsx, bundled by esbuild at start) at /, the
// workflow server under /api. Offline: the model is fake.
//   npm run example:chat            then open http://127.0.0.1:3000/
// (tsx with examples/tsconfig.json, whose paths map `eventloom/*` to the sources: no build needed)
import { createServer } from "node:http";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { createChatServer } from "./server.js";

const here = fileURLToPath(new URL(".", import.meta.url));
const src = fileURLToPath(new URL("../../packages/eventloom/src/", import.meta.url));

/** The page's script: app.tsx and what it imports, for the browser. */
export async function bundleChatApp(): Promise<string> {
  const result = await build({
    entryPoints: [`${here}app.tsx`],
    bundle: true,
    format: "esm",
    platform: "browser",
    target: "es2022",
    write: false,
    minify: true,
    jsx: "automatic",
    define: { "process.env.NODE_ENV": '"production"' },
    alias: {
      "eventloom/ai-sdk": `${src}ai-sdk/index.ts`,
      "eventloom/client": `${src}client/index.ts`,
      "eventloom/react": `${src}react/index.ts`,
    },
    logLevel: "silent",
  });
  return result.outputFiles[0]?.text ?? "";
}

export const PAGE = `<!doctype html>
<html><head><meta charset="utf-8"><title>eventloom chat</title>
<style>body{font:15px system-ui;max-width:46rem;margin:2rem auto}.message{list-style:none;margin:.5rem 0}
.tool,.question{background:#f4f4f4;padding:.3rem .6rem;margin:.3rem 0}.text{white-space:pre-wrap;margin:.2rem 0}</style>
</head><body><div id="root"></div><script type="module" src="app.js"></script></body></html>`;

async function main(): Promise<void> {
  const port = Number(process.env["PORT"] ?? 3000);
  const app = await bundleChatApp();
  const workflows = createChatServer("/api");
  await workflows.start();
  const http = createServer((req, res) => {
    if (req.url === "/" || req.url === "/index.html") {
      res.writeHead(200, { "content-type": "text/html; charset=utf-8" }).end(PAGE);
    } else if (req.url === "/app.js") {
      res.writeHead(200, { "content-type": "text/javascript; charset=utf-8" }).end(app);
    } else {
      workflows.nodeHandler(req, res);
    }
  });
  http.listen(port, "127.0.0.1", () => console.log(`chat example: http://127.0.0.1:${port}/`));
  const stop = async () => {
    await workflows.close();
    http.close();
  };
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) await main();
