import { fileURLToPath } from "node:url";
import { brotliCompressSync, constants, gzipSync } from "node:zlib";
import { build, type Metafile } from "esbuild";

/** The browser client's entry point, as an application bundling `eventloom/client` reaches it. */
export const CLIENT_ENTRY = fileURLToPath(new URL("../../src/client/index.ts", import.meta.url));

// paths in the metafile (and the comments esbuild writes) relative to the repository, wherever run from
const REPOSITORY = fileURLToPath(new URL("../../../../", import.meta.url));

/** The budget of the browser client, minified and gzipped (level 9). */
export const CLIENT_GZIP_BUDGET = 15_000;

/** Sizes, in bytes, of one bundle and what went into it. */
export interface BundleSize {
  /** The bundle without minification. */
  raw: number;
  min: number;
  gzip: number;
  brotli: number;
  /** Bytes each input file contributes to the minified bundle, largest first. */
  inputs: { path: string; bytes: number }[];
  /** The packages of node_modules that went into the bundle. */
  packages: string[];
}

async function bundle(entry: string, minify: boolean): Promise<{ code: Uint8Array; metafile: Metafile }> {
  const result = await build({
    entryPoints: [entry],
    bundle: true,
    format: "esm",
    platform: "browser",
    target: "es2022",
    minify,
    write: false,
    metafile: true,
    logLevel: "silent",
    absWorkingDir: REPOSITORY,
  });
  return { code: result.outputFiles[0]!.contents, metafile: result.metafile };
}

const packageOf = (path: string): string | null => {
  const match = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(path);
  return match ? match[1]! : null;
};

/**
 * Bundles `entry` for the browser (ESM, minified) with esbuild, as an application's bundler would,
 * and measures it raw, minified, gzipped (level 9) and brotli-compressed (quality 11).
 */
export async function measureBundle(entry: string = CLIENT_ENTRY): Promise<BundleSize> {
  const raw = await bundle(entry, false);
  const min = await bundle(entry, true);
  const output = Object.values(min.metafile.outputs)[0]!;
  const inputs = Object.entries(output.inputs)
    .map(([path, { bytesInOutput }]) => ({ path, bytes: bytesInOutput }))
    .sort((a, b) => b.bytes - a.bytes);
  const packages = [...new Set(Object.keys(min.metafile.inputs).flatMap((p) => packageOf(p) ?? []))].sort();
  return {
    raw: raw.code.byteLength,
    min: min.code.byteLength,
    gzip: gzipSync(min.code, { level: 9 }).byteLength,
    brotli: brotliCompressSync(min.code, {
      params: { [constants.BROTLI_PARAM_QUALITY]: 11 },
    }).byteLength,
    inputs,
    packages,
  };
}
