// Issue 21: a stream reader on a process that does not run the handler costs that process one round
// trip per commit of the owner (it reads the new events after each notice, and nothing else), and
// nothing between commits. Statements are counted per process (test/support/count-statements.ts).
import { randomBytes } from "node:crypto";
import { afterEach, expect, it } from "vitest";
import { PostgresStore } from "../../src/stores/postgres/index.js";
import { call, callJson, type Envelope, makeServer } from "../server/helpers.js";
import { useStatementCounts } from "../support/count-statements.js";
import { useFreshDatabase } from "../support/fresh-database.js";
import { until } from "../support/until.js";

const db = useFreshDatabase("workflows_pgfence_read");
const servers: ReturnType<typeof makeServer>[] = [];
const { count } = useStatementCounts();
afterEach(async () => {
  await Promise.allSettled(servers.splice(0).map((s) => s.close()));
});

/** The envelopes of an NDJSON stream as they arrive, and whether it has ended. */
function follow(res: Response): { seen: Envelope[]; ended: () => boolean } {
  const seen: Envelope[] = [];
  let done = false;
  void (async () => {
    const decoder = new TextDecoder();
    let buffered = "";
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    for (;;) {
      const { done: over, value } = await reader.read();
      if (over) break;
      buffered += decoder.decode(value, { stream: true });
      const lines = buffered.split("\n");
      buffered = lines.pop() ?? "";
      for (const line of lines) if (line.trim()) seen.push(JSON.parse(line) as Envelope);
    }
    done = true;
  })();
  return { seen, ended: () => done };
}

it("follows a run owned by another process in one round trip per commit", async () => {
  const schema = `read_${randomBytes(4).toString("hex")}`;
  // Lifetimes far beyond the test: no renewal, takeover pass, slow poll or ping while counting.
  const quiet = { leaseTtlMs: 600_000, idleReleaseMs: 600_000, pingIntervalMs: 600_000 };
  const store = (name: string) =>
    new PostgresStore({ connectionString: db.url, application_name: name }, { schema, heartbeatMs: 600_000 });
  const a = makeServer({ store: store("owner"), ...quiet });
  const b = makeServer({ store: store("reader"), ...quiet });
  servers.push(a, b);
  await callJson(b, "GET", "/health");
  const { body } = await callJson<{ handler_id: string }>(a, "POST", "/workflows/waiting/run-nowait", {});
  const id = body.handler_id;
  const res = await call(b, "GET", `/events/${id}?sse=false`);
  expect(res.status).toBe(200);
  const stream = follow(res);
  const pongs = () => stream.seen.filter((e) => e.type === "Pong").length;
  const ping = async (n: number) => {
    expect(
      (await callJson(a, "POST", `/events/${id}`, { event: { type: "Ping", value: { n } } })).status,
    ).toBe(200);
    await until(() => pongs() === n + 1, { what: `Pong ${n} on the reader` });
  };

  await ping(0); // the stream is open and has caught up
  // The owner's commits: its group commit statements (the fence check is in them).
  const commitsSoFar = () => count("owner", "refuse_commit('LEASE_LOST'");
  const before = { commits: commitsSoFar(), reader: count("reader") };
  const N = 10;
  for (let n = 1; n <= N; n++) await ping(n);
  expect((await callJson(a, "POST", `/events/${id}`, { event: { type: "Finish", value: {} } })).status).toBe(
    200,
  );
  await until(stream.ended, { what: "the reader's stream to end after the run's end" });
  expect(stream.seen.at(-1)?.type).toBe("StopEvent");
  const commits = commitsSoFar() - before.commits;
  const reads = count("reader") - before.reader;
  // A commit per answer on the owner (its event, the step's state and output together), the last one
  // ending the run; the reader reads each once (twice as many notices before one read make one read).
  // Before: 3 per commit (the new events, an empty page, the record), 32 reads for 11 commits.
  expect(commits).toBeGreaterThanOrEqual(N + 1);
  expect(reads).toBeGreaterThanOrEqual(N + 1);
  expect(reads).toBeLessThanOrEqual(commits);
});
