// The browser client's bundle size: `npm run bench:client` (deterministic: no timing involved).
import { CLIENT_GZIP_BUDGET, measureBundle } from "../../packages/eventloom/test/support/client-bundle.js";

const kB = (n: number) => `${(n / 1000).toFixed(1)} kB`;
const size = await measureBundle();

console.log("eventloom/client bundled for the browser (esbuild, ESM, minified)");
console.log(`  raw     ${size.raw.toString().padStart(8)} B  ${kB(size.raw)}`);
console.log(`  min     ${size.min.toString().padStart(8)} B  ${kB(size.min)}`);
console.log(
  `  gzip    ${size.gzip.toString().padStart(8)} B  ${kB(size.gzip)}  (level 9; budget ${kB(CLIENT_GZIP_BUDGET)})`,
);
console.log(`  brotli  ${size.brotli.toString().padStart(8)} B  ${kB(size.brotli)}  (quality 11)`);
console.log(`  packages from node_modules: ${size.packages.length ? size.packages.join(", ") : "none"}`);
console.log("top contributors to the minified bundle:");
for (const input of size.inputs.slice(0, 12)) {
  const share = ((100 * input.bytes) / size.min).toFixed(1).padStart(5);
  console.log(`  ${input.bytes.toString().padStart(8)} B ${share}%  ${input.path}`);
}
if (size.gzip > CLIENT_GZIP_BUDGET) process.exitCode = 1;
