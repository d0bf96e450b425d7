// The browser client's size, as an application's bundler sees it. Sizes are deterministic (no
// timing), so this is a test; `npm run bench:client` prints the same figures with the top inputs.

import { describe, expect, it } from "vitest";
import { CLIENT_GZIP_BUDGET, measureBundle } from "../support/client-bundle.js";

describe("the browser client's bundle", () => {
  it(`bundles without zod and fits in ${CLIENT_GZIP_BUDGET / 1000} kB gzipped`, async () => {
    const size = await measureBundle();
    expect(size.packages).toEqual([]);
    expect(
      size.inputs.map((i) => i.path).filter((p) => /zod|wire\.ts|openapi\.ts|parse\.ts/.test(p)),
    ).toEqual([]);
    expect(size.gzip).toBeGreaterThan(1_000); // a bundle this small would mean the measure broke
    expect(size.gzip).toBeLessThanOrEqual(CLIENT_GZIP_BUDGET);
  });
});
