#!/usr/bin/env node
// `copy` (prepack): puts the repository's README.md and LICENSE into the package, so that the
// tarball ships them; the README's relative links are made absolute, since docs/ and examples/ are
// not in the tarball. `remove` (postpack) takes the copies away again.
import { readFile, rm, writeFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";

const root = new URL("../../../", import.meta.url);
const here = new URL("../", import.meta.url);
const manifest = JSON.parse(await readFile(new URL("package.json", here), "utf8"));
const repository = manifest.repository.url.replace(/^git\+/, "").replace(/\.git$/, "");

const action = process.argv[2];
if (action === "copy") {
  const readme = await readFile(new URL("README.md", root), "utf8");
  // Markdown links and images whose target is a path in the repository, not a URL or an anchor.
  const absolute = readme.replace(/(!?\[[^\]]*\]\()(?![a-z]+:|#)([^)\s]+)\)/gi, (_, text, target) => {
    const kind = text.startsWith("!") ? "raw/main" : "blob/main";
    return `${text}${repository}/${kind}/${target.replace(/^\.\//, "")})`;
  });
  await writeFile(new URL("README.md", here), absolute);
  await writeFile(new URL("LICENSE", here), await readFile(new URL("LICENSE", root)));
  console.log(`pack-files: README.md and LICENSE copied into ${fileURLToPath(here)}`);
} else if (action === "remove") {
  await rm(new URL("README.md", here), { force: true });
  await rm(new URL("LICENSE", here), { force: true });
} else {
  console.error("pack-files: expected `copy` or `remove`");
  process.exit(2);
}
