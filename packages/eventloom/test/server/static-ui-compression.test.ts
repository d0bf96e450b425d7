// The debugger's files are compressed once at build time (scripts/precompress.mjs, run by
// copy-ui.mjs) and sent compressed to clients that accept it.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { brotliDecompressSync, gunzipSync } from "node:zlib";
import { afterEach, describe, expect, test } from "vitest";
import { precompress } from "../../scripts/precompress.mjs";
import { call, makeServer, tempDir } from "./helpers.js";

let server: ReturnType<typeof makeServer> | undefined;
const cleanups: (() => void)[] = [];
afterEach(async () => {
  await server?.close();
  server = undefined;
  for (const c of cleanups.splice(0)) c();
});

const APP_JS = `export const rows = [${Array.from({ length: 400 }, (_, i) => `"row ${i}"`).join(", ")}];\n`;

async function builtUi(): Promise<string> {
  const { dir: parent, remove } = tempDir();
  cleanups.push(remove);
  const dir = join(parent, "ui");
  mkdirSync(join(dir, "assets"), { recursive: true });
  writeFileSync(join(dir, "index.html"), `<!doctype html><title>ui</title>${"<p>hello</p>".repeat(50)}`);
  writeFileSync(join(dir, "assets", "app-1.js"), APP_JS);
  writeFileSync(join(dir, "assets", "tiny.txt"), "x");
  writeFileSync(join(dir, "assets", "logo.png"), Buffer.from([0x89, 0x50, 0x4e, 0x47]));
  const { before, after } = await precompress(dir);
  expect(after).toBeLessThan(before / 2);
  return dir;
}

describe("the debugger's files, precompressed", () => {
  test("go out as brotli, else gzip, as the request's Accept-Encoding allows, with Vary", async () => {
    server = makeServer({ uiDir: await builtUi() });
    const get = (encoding: string | null) =>
      call(
        server!,
        "GET",
        "/assets/app-1.js",
        undefined,
        encoding === null ? {} : { "accept-encoding": encoding },
      );

    const br = await get("gzip, deflate, br");
    expect(br.headers.get("content-encoding")).toBe("br");
    expect(br.headers.get("vary")).toBe("Accept-Encoding");
    expect(br.headers.get("content-type")).toContain("javascript");
    expect(br.headers.get("cache-control")).toBe("public, max-age=31536000, immutable");
    expect(brotliDecompressSync(Buffer.from(await br.arrayBuffer())).toString()).toBe(APP_JS);

    const gz = await get("gzip;q=1.0, br;q=0");
    expect(gz.headers.get("content-encoding")).toBe("gzip");
    expect(gunzipSync(Buffer.from(await gz.arrayBuffer())).toString()).toBe(APP_JS);

    for (const encoding of [null, "identity", "br;q=0, gzip;q=0"]) {
      const plain = await get(encoding);
      expect(plain.headers.get("content-encoding"), String(encoding)).toBeNull();
      expect(plain.headers.get("vary"), String(encoding)).toBe("Accept-Encoding");
      expect(await plain.text()).toBe(APP_JS);
    }

    const index = await call(server, "GET", "/", undefined, { "accept-encoding": "br" });
    expect(index.headers.get("content-encoding")).toBe("br");
    expect(index.headers.get("cache-control")).toBe("no-cache");
    const head = await call(server, "HEAD", "/", undefined, { "accept-encoding": "gzip" });
    expect(head.headers.get("content-encoding")).toBe("gzip");
    expect(await head.text()).toBe("");
  });

  test("files too small to gain, and binary files, go out as they are, without Vary", async () => {
    server = makeServer({ uiDir: await builtUi() });
    for (const path of ["/assets/tiny.txt", "/assets/logo.png"]) {
      const res = await call(server, "GET", path, undefined, { "accept-encoding": "br, gzip" });
      expect(res.status, path).toBe(200);
      expect(res.headers.get("content-encoding"), path).toBeNull();
      expect(res.headers.get("vary"), path).toBeNull();
    }
  });

  test("a browser's fetch over a real socket gets the original bytes back", async () => {
    server = makeServer({ uiDir: await builtUi() });
    const { url } = await server.serve({ host: "127.0.0.1", port: 0 });
    const res = await fetch(new URL("assets/app-1.js", url.endsWith("/") ? url : `${url}/`));
    expect(res.status).toBe(200);
    expect(res.headers.get("content-encoding")).toBe("gzip"); // Node's fetch asks for gzip and deflate
    expect(await res.text()).toBe(APP_JS);
  });
});
