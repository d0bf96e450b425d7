// Writes a brotli (`file.br`) and a gzip (`file.gz`) copy of each text file under a folder, where
// it saves bytes: the server sends them to browsers that accept them (src/server/static-ui.ts).
import { readdir, readFile, writeFile } from "node:fs/promises";
import { extname, join } from "node:path";
import { promisify } from "node:util";
import { brotliCompress, constants, gzip } from "node:zlib";

const COMPRESSIBLE = new Set([".html", ".js", ".mjs", ".css", ".json", ".map", ".svg", ".txt", ".wasm"]);
const brotli = promisify(brotliCompress);
const gzipped = promisify(gzip);

/** Compresses every text file under `dir`; resolves with the bytes before and after (brotli). */
export async function precompress(dir) {
  let before = 0;
  let after = 0;
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile() || !COMPRESSIBLE.has(extname(entry.name))) continue;
    const path = join(entry.parentPath ?? entry.path, entry.name);
    const data = await readFile(path);
    const [br, gz] = await Promise.all([
      brotli(data, {
        params: { [constants.BROTLI_PARAM_QUALITY]: 11, [constants.BROTLI_PARAM_SIZE_HINT]: data.length },
      }),
      gzipped(data, { level: 9 }),
    ]);
    // A copy that saves nothing is not written: the file is then always sent as it is.
    if (br.length < data.length) await writeFile(`${path}.br`, br);
    if (gz.length < data.length) await writeFile(`${path}.gz`, gz);
    before += data.length;
    after += Math.min(data.length, br.length);
  }
  return { before, after };
}
