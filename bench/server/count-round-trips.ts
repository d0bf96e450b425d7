// Preloaded (`node --import`) into the benchmark's server processes: counts every statement sent by
// the pg driver (one round trip each: the store never pipelines) and writes the running total to
// $BENCH_PG_COUNT_DIR/<pid>-<random> every 50 ms, for bench/server/postgres-multi.ts to read (the
// random part: a later process given the same pid must not overwrite a dead one's count).
import { randomUUID } from "node:crypto";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import pg from "pg";

const dir = process.env["BENCH_PG_COUNT_DIR"];
if (dir) {
  let count = 0;
  const query = pg.Client.prototype.query as (...args: unknown[]) => unknown;
  (pg.Client.prototype as { query: unknown }).query = function (this: unknown, ...args: unknown[]) {
    count++;
    return query.apply(this, args);
  };
  const file = join(dir, `${process.pid}-${randomUUID()}`);
  const write = () => writeFileSync(file, String(count));
  setInterval(write, 50).unref();
  write();
}
