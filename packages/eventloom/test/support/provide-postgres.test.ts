// The global setup's choice of what to install for the Postgres tests: a PostgreSQL that already
// answers at the tests' address is used as it is, even on a machine without Debian's cluster tools.
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ADMIN_URL } from "./postgres-url.js";
import { postgresAnswer, postgresPackages } from "./provide-postgres.js";

// A PATH with apt-get (a stub, never run here) and no pg_ctlcluster: a machine where the setup
// could install Debian's postgresql and has no cluster of Debian's to start.
let bin: string;
let path: string | undefined;
beforeEach(() => {
  bin = mkdtempSync(join(tmpdir(), "eventloom-no-pg-ctlcluster-"));
  writeFileSync(join(bin, "apt-get"), "#!/bin/sh\nexit 1\n");
  chmodSync(join(bin, "apt-get"), 0o755);
  path = process.env["PATH"];
  process.env["PATH"] = bin;
});
afterEach(() => {
  process.env["PATH"] = path;
  rmSync(bin, { recursive: true, force: true });
});

const root = process.getuid?.() === 0;

describe.runIf(root)("postgresPackages (as root, pg_ctlcluster missing)", () => {
  it("asks for nothing when a PostgreSQL already answers at the tests' address", async () => {
    expect(await postgresAnswer(ADMIN_URL), "the tests' PostgreSQL must answer for this test").toBeNull();
    expect(await postgresPackages(ADMIN_URL)).toBeNull();
  });

  it("asks for Debian's postgresql when nothing answers on this machine", async () => {
    // Port 1 on loopback: nothing listens there.
    expect(await postgresPackages("postgres://postgres@127.0.0.1:1/postgres")).toEqual(["postgresql"]);
  });
});
