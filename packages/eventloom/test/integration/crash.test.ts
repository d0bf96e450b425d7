// Kills the CLI with SIGKILL while runs stream, wait for input and right after an acknowledged
// POST /events, restarts it on the same SQLite file, and checks that nothing acknowledged was lost.
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { type CliProcess, startCli, tempDir } from "../cli/cli-process.js";
import { type Envelope, getJson, postJson, readEvents } from "../cli/http.js";

const fixture = fileURLToPath(new URL("./fixtures/crash-server.ts", import.meta.url));
const TICKS = 40;

const running: CliProcess[] = [];
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((p) => p.kill()));
  for (const c of cleanups.splice(0)) await c();
});

/** A promise that resolves the first time `check()` holds when `poke()` is called. */
function condition(check: () => boolean) {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  const poke = () => {
    if (check()) resolve();
  };
  return { promise, poke };
}

const streamUrl = (url: string, id: string, after = -1) =>
  `${url}events/${id}?sse=false&include_internal=true&after_sequence=${after}`;

describe("crash recovery", { timeout: 300_000 }, () => {
  it("keeps every handler, acknowledged event, result and gap-free stream across SIGKILLs", async () => {
    const dir = await tempDir("eventloom-crash-");
    cleanups.push(dir.cleanup);
    const env = { WORKFLOWS_DB: join(dir.path, "w.db") };
    const start = async () => {
      const cli = startCli(["serve", fixture, "--host", "127.0.0.1", "--port", "0"], { env });
      running.push(cli);
      return { cli, url: await cli.ready() };
    };
    const crash = async (cli: CliProcess) => {
      cli.child.kill("SIGKILL");
      expect((await cli.exited).signal).toBe("SIGKILL");
    };
    // Every event any reader saw, by handler: all must be in the final stream, at the same sequence.
    const seen = new Map<string, Envelope[]>();
    const record = (id: string, ev: Envelope) => seen.set(id, [...(seen.get(id) ?? []), ev]);
    const progress = (id: string) => (seen.get(id) ?? []).filter((e) => e.type === "Progress").length;
    const lastSequence = (id: string) => Math.max(-1, ...(seen.get(id) ?? []).map((e) => e.sequence));

    // ---- life 1
    let { cli, url } = await start();
    const completed = await postJson(`${url}workflows/ticker/run`, { start_event: { ticks: 2, delayMs: 0 } });
    expect(completed.body).toMatchObject({ status: "completed", result: { ticks: 2 } });
    const completedId = completed.body["handler_id"] as string;

    const tickerIds: string[] = [];
    for (let i = 0; i < 3; i++) {
      const r = await postJson(`${url}workflows/ticker/run-nowait`, {
        start_event: { ticks: TICKS, delayMs: 150 },
      });
      tickerIds.push(r.body["handler_id"] as string);
    }
    const streaming = condition(() => tickerIds.every((id) => progress(id) >= 3));
    const readers = tickerIds.map((id) =>
      readEvents(streamUrl(url, id), (ev) => {
        record(id, ev);
        streaming.poke();
        return false;
      }),
    );

    const waitingIds: string[] = [];
    for (let i = 0; i < 4; i++) {
      const r = await postJson(`${url}workflows/ask/run-nowait`, {});
      const id = r.body["handler_id"] as string;
      waitingIds.push(id);
      const asked = await readEvents(streamUrl(url, id), (ev) => {
        record(id, ev);
        return ev.type === "Question";
      });
      expect(asked.events.at(-1)?.type).toBe("Question");
    }
    const answeredId = waitingIds.pop() as string;

    await streaming.promise;
    // Acknowledged, then killed at once: the answer must survive.
    const ack = await postJson(`${url}events/${answeredId}`, {
      event: { type: "Answer", value: { text: "acknowledged" } },
    });
    expect(ack).toEqual({ status: 200, body: { status: "sent" } });
    await crash(cli);
    for (const r of await Promise.all(readers)) expect(r.ended).toBe(false); // they were cut mid-stream

    // ---- life 2: the tickers go on; kill again while they stream.
    ({ cli, url } = await start());
    const before = new Map(tickerIds.map((id) => [id, progress(id)]));
    const streamingAgain = condition(() =>
      tickerIds.every((id) => progress(id) >= (before.get(id) ?? 0) + 2 || ended.has(id)),
    );
    const ended = new Set<string>();
    const readers2 = tickerIds.map((id) =>
      readEvents(streamUrl(url, id, lastSequence(id)), (ev) => {
        record(id, ev);
        if ((ev.types as string[]).includes("workflows.events.StopEvent")) ended.add(id);
        streamingAgain.poke();
        return false;
      }),
    );
    await streamingAgain.promise;
    expect(ended.size, "the second crash happens while tickers still stream").toBeLessThan(tickerIds.length);
    await crash(cli);
    await Promise.all(readers2);

    // ---- life 3: everything is there and every run finishes.
    ({ cli, url } = await start());
    const listed = await getJson(`${url}handlers?limit=1000`);
    const listedIds = (listed.body["handlers"] as { handler_id: string }[]).map((h) => h.handler_id);
    expect(new Set(listedIds)).toEqual(new Set([completedId, ...tickerIds, ...waitingIds, answeredId]));

    expect((await getJson(`${url}results/${completedId}`)).body).toMatchObject({
      status: "completed",
      result: { ticks: 2 },
    });

    // The acknowledged answer was kept: the run ends without it being sent again.
    const answered = await readEvents(streamUrl(url, answeredId));
    expect(answered.ended).toBe(true);
    expect(answered.events.at(-1)).toMatchObject({
      type: "StopEvent",
      value: { result: "answered: acknowledged" },
    });

    for (const id of waitingIds) {
      expect((await getJson(`${url}results/${id}`)).status).toBe(202);
      const sent = await postJson(`${url}events/${id}`, { event: { type: "Answer", value: { text: id } } });
      expect(sent.status).toBe(200);
    }

    for (const id of [...tickerIds, ...waitingIds, answeredId]) {
      const full = await readEvents(streamUrl(url, id));
      expect(full.ended, id).toBe(true);
      const sequences = full.events.map((e) => e.sequence);
      expect(sequences, `gap-free, no repeats: ${id}`).toEqual(sequences.map((_, i) => i));
      // What readers saw before a crash is exactly what is stored, at the same sequence.
      for (const ev of seen.get(id) ?? []) expect(full.events[ev.sequence], id).toEqual(ev);
      const last = full.events.at(-1);
      expect(last?.types).toContain("workflows.events.StopEvent");
      if (tickerIds.includes(id)) {
        expect(last?.value).toEqual({ result: { ticks: TICKS } });
        // Each tick published its progress at least once (a tick in flight at a crash may run again).
        const ticks = new Set(full.events.filter((e) => e.type === "Progress").map((e) => e.value["i"]));
        expect(ticks.size).toBe(TICKS);
      } else if (id !== answeredId) {
        expect(last?.value).toEqual({ result: `answered: ${id}` });
      }
      expect((await getJson(`${url}results/${id}`)).body).toMatchObject({ status: "completed" });
    }

    cli.child.kill("SIGTERM");
    expect((await cli.exited).code).toBe(0);
  });
});
