// Crash torture: start the server through the CLI on a SQLite file, drive a mix of runs through the
// real client, SIGKILL it at a random moment, check the database, restart, again. Then let every run
// finish and check that nothing was lost and every result is what an uninterrupted run gives.
// Every start and every answer carries an Idempotency-Key; one cut by a kill is sent again with its
// key in the next life, and nothing may be executed twice: the duplicates are counted, and must be 0.
import { setMaxListeners } from "node:events";
import { join } from "node:path";
import { WorkflowClient, WorkflowClientError } from "eventloom/client";
import { SqliteStore } from "eventloom/server";
import { afterAll, describe, expect, it } from "vitest";
import { type CliProcess, freePort, tempDir } from "../packages/eventloom/test/cli/cli-process.js";
import { type Envelope, readEvents } from "../packages/eventloom/test/cli/http.js";
import { answerFor, expectedOutcome, startInput, type TortureKind } from "./fixtures/torture-workflows.js";
import { serveTorture } from "./support/cli.js";
import { reportFigures } from "./support/figures.js";
import { SEED, seededRandom, sized } from "./support/mode.js";
import { checkStore, countDuplicates } from "./support/store-invariants.js";

const CYCLES = sized(5, 80);
const RUNS_PER_CYCLE = sized(12, 16);
const BUDGET_MS = sized(70_000, 8 * 60_000);
const KINDS: TortureKind[] = ["stream", "ask", "fan-out", "fail", "retry"];
const TERMINAL = "workflows.events.StopEvent";

interface Run {
  /** The start's Idempotency-Key (its answer's key is derived from it). */
  key: string;
  /** The handler id the server gave; null while the start's answer was cut by a kill. */
  id: string | null;
  kind: TortureKind;
  input: Record<string, number>;
  /** run-nowait answered 200 (to the first copy or to a copy sent again): the handler must exist from now on. */
  acknowledged: boolean;
  /** ask runs: "acked" once POST /events answered 200 (never sent again), "tried" when the answer was lost. */
  answer: "none" | "tried" | "acked";
}

const children: CliProcess[] = [];
const cleanups: (() => Promise<void>)[] = [];
afterAll(async () => {
  await Promise.all(children.map((c) => c.kill()));
  for (const c of cleanups) await c();
});

describe("crash torture", () => {
  it("survives SIGKILL at random moments: no handler lost, acknowledged answers delivered, starts and answers sent again with their keys executed once (0 duplicates), gap-free streams, uninterrupted results, sound database", {
    timeout: BUDGET_MS + 120_000,
  }, async () => {
    const random = seededRandom(SEED);
    const dir = await tempDir("reliability-crash-");
    cleanups.push(dir.cleanup);
    const db = join(dir.path, "w.db");
    const port = await freePort();
    const started = Date.now();
    const runs = new Map<string, Run>();
    // What any reader saw, by handler and sequence: it must still be there, the same, at the end.
    const seen = new Map<string, Map<number, Envelope>>();
    const note = (id: string, ev: Envelope) => {
      let bySeq = seen.get(id);
      if (!bySeq) {
        bySeq = new Map();
        seen.set(id, bySeq);
      }
      const before = bySeq.get(ev.sequence);
      if (before)
        expect(comparable(ev), `${id}#${ev.sequence} read twice differently`).toEqual(comparable(before));
      bySeq.set(ev.sequence, ev);
    };
    const asked = new Set<string>();
    let n = 0;
    let cycles = 0;
    let acknowledgedSends = 0;
    let lostSends = 0;
    let readersCut = 0;
    let startsResent = 0;
    let answersResent = 0;

    const start = async () => {
      const served = await serveTorture({ port, env: { WORKFLOWS_DB: db } });
      children.push(served.cli);
      return served;
    };

    while (cycles < CYCLES && Date.now() - started < BUDGET_MS) {
      const { cli, url } = await start();
      const client = new WorkflowClient({ baseUrl: url, timeoutMs: 15_000 });
      expect(await client.isHealthy()).toBe(true);
      let alive = true;
      const lives = new AbortController();
      setMaxListeners(0, lives.signal); // one abort listener per reader
      const killed = new Promise<void>((resolve) => lives.signal.addEventListener("abort", () => resolve()));

      // Readers for every handler still running, from what was last seen.
      const readers: Promise<unknown>[] = [];
      const follow = (id: string) => {
        const after = Math.max(-1, ...(seen.get(id)?.keys() ?? []));
        readers.push(
          (async () => {
            try {
              for await (const ev of client.getWorkflowEvents(id, {
                includeInternal: true,
                afterSequence: after,
                signal: lives.signal,
                sse: random() < 0.5,
                maxReconnects: 1,
                reconnectDelayMs: 50,
              })) {
                note(id, ev as unknown as Envelope);
                if (ev.type === "Question") asked.add(id);
              }
            } catch {
              if (alive) throw new Error(`reader of ${id} failed while the server was up`);
              readersCut++;
            }
          })().catch((error: unknown) => error),
        );
      };
      // A start cut by the last kill is sent again with its key: the handler it made, or a new one.
      for (const run of runs.values()) if (!run.acknowledged) await start_(client, run, () => startsResent++);
      for (const run of runs.values()) {
        if (!run.acknowledged || run.id === null) continue;
        const info = await client.getHandler(run.id).catch((e: unknown) => e);
        if (info instanceof WorkflowClientError && info.status === 404) continue;
        if (info instanceof Error) throw info;
        if ((info as { status: string }).status === "running") follow(run.id);
      }

      const answer = async (run: Run) => {
        const resent = run.answer === "tried";
        try {
          await sendAnswer(client, run);
          run.answer = "acked";
          acknowledgedSends++;
          if (resent) answersResent++;
        } catch (error) {
          if (!alive) {
            run.answer = "tried";
            lostSends++;
            return;
          }
          // With its key, a lost answer sent again is answered as the first copy was (200), whether
          // it was delivered before the kill or not: no 400 or 409 is tolerated any more.
          throw error;
        }
      };

      // Traffic until the kill: new runs of every kind, answers to questions asked.
      const traffic = (async () => {
        for (let i = 0; alive; i++) {
          if (i >= RUNS_PER_CYCLE) {
            await killed;
            return;
          }
          const kind = KINDS[Math.floor(random() * KINDS.length)] as TortureKind;
          const run: Run = {
            key: `start-${n}`,
            id: null,
            kind,
            input: startInput(kind, n, random),
            acknowledged: false,
            answer: "none",
          };
          n++;
          runs.set(run.key, run);
          try {
            await start_(client, run, () => undefined);
            follow(run.id as string);
          } catch (error) {
            if (alive) throw error;
            return;
          }
          for (const id of asked) {
            const r = [...runs.values()].find((x) => x.id === id) as Run;
            if (r.answer !== "acked" && random() < 0.5) await answer(r);
          }
        }
      })().catch((error: unknown) => error);

      // The kill: at a random moment, or right after an acknowledged answer (a commit just ended).
      const delay = 100 + Math.floor(random() * 1500);
      await new Promise((resolve) => setTimeout(resolve, delay));
      alive = false;
      cli.child.kill("SIGKILL");
      lives.abort();
      const exit = await cli.exited;
      expect(exit.signal).toBe("SIGKILL");
      const failures = [await traffic, ...(await Promise.all(readers))].filter((e) => e !== undefined);
      if (failures.length > 0) throw failures[0];
      cycles++;

      // After each kill: the database is sound, every acknowledged handler is there, nothing is half-written.
      const store = new SqliteStore(db);
      try {
        expect(store.integrityCheck()).toBe("ok");
        const summary = await checkStore(store);
        expect(summary.problems, `cycle ${cycles}, seed ${SEED}`).toEqual([]);
        const stored = new Set(summary.handlers.map((h) => h.handlerId));
        for (const run of runs.values()) {
          if (run.acknowledged)
            expect(stored.has(run.id as string), `${run.id} lost (seed ${SEED})`).toBe(true);
        }
      } finally {
        await store.close();
      }
    }

    // ---- the last life: answer what still waits, let everything end, check every run.
    const { cli, url } = await start();
    const client = new WorkflowClient({ baseUrl: url, timeoutMs: 15_000 });
    const finals = new Map<string, { status: string; result: unknown; error: string | null }>();
    for (const run of runs.values()) {
      if (!run.acknowledged) await start_(client, run, () => startsResent++);
      const info = await client.getResult(run.id as string);
      if (run.kind === "ask" && run.answer !== "acked" && info.status === "running") {
        if (run.answer === "tried") answersResent++;
        await sendAnswer(client, run);
        run.answer = "acked";
      }
    }
    let events = 0;
    let rerunSteps = 0;
    for (const run of runs.values()) {
      const id = run.id as string;
      const stream = await readEvents(`${url}/events/${id}?sse=false&include_internal=true`);
      expect(stream.ended, `${id} stream ends`).toBe(true);
      const sequences = stream.events.map((e) => e.sequence);
      expect(sequences, `${id}: gap-free, no repeats`).toEqual(sequences.map((_, i) => i));
      for (const [seq, ev] of seen.get(id) ?? []) {
        expect(comparable(stream.events[seq] as Envelope), `${id}#${seq} as first read`).toEqual(
          comparable(ev),
        );
      }
      expect(stream.events.filter((e) => (e.types as string[]).includes(TERMINAL))).toHaveLength(1);
      events += stream.events.length;
      if (run.kind === "stream") {
        const ticks = stream.events.filter((e) => e.type === "Progress").map((e) => e.value["i"] as number);
        // at-least-once: a tick in flight at a kill runs again, so a Progress may repeat, never go missing
        expect(new Set(ticks)).toEqual(
          new Set(Array.from({ length: run.input["ticks"] as number }, (_, i) => i)),
        );
        rerunSteps += ticks.length - new Set(ticks).size;
      }
      const result = await client.getResult(id);
      const expected = expectedOutcome(run.kind, run.input);
      expect({ id, status: result.status }).toEqual({ id, status: expected.status });
      if (expected.status === "completed") expect(result.result, id).toEqual(expected.result);
      else expect(result.error, id).toContain(expected.errorIncludes);
      finals.set(id, result);
    }
    cli.child.kill("SIGTERM");
    expect((await cli.exited).code).toBe(0);
    const store = new SqliteStore(db);
    expect(store.integrityCheck()).toBe("ok");
    const summary = await checkStore(store);
    expect(summary.problems).toEqual([]);
    // Nothing executed twice: no handler that no start was answered with, no answer taken in twice.
    const duplicates = await countDuplicates(
      store,
      summary.handlers,
      new Set([...runs.values()].map((r) => r.id as string)),
    );
    expect(duplicates, `seed ${SEED}`).toEqual({ handlers: [], deliveries: [] });
    await store.close();

    reportFigures("crash-torture", {
      seed: SEED,
      cycles_survived: cycles,
      sigkills: cycles,
      runs: runs.size,
      runs_by_kind: KINDS.map((k) => `${k}:${[...runs.values()].filter((r) => r.kind === k).length}`).join(
        " ",
      ),
      events: events,
      acknowledged_answers: acknowledgedSends,
      answers_cut_by_a_kill: lostSends,
      starts_resent_with_their_key: startsResent,
      answers_resent_with_their_key: answersResent,
      duplicates: 0,
      readers_cut: readersCut,
      ticks_rerun_after_a_kill: rerunSteps,
      lost: 0,
      seconds: Math.round((Date.now() - started) / 1000),
    });
    expect(cycles).toBeGreaterThanOrEqual(Math.min(CYCLES, 3));
  });
});

/**
 * Starts a run with its key (sent again with the same key when its answer was cut by a kill):
 * learns the handler id the server gave, whether from this copy or from the first one.
 */
async function start_(client: WorkflowClient, run: Run, resent: () => void): Promise<void> {
  resent();
  const started = await client.runWorkflowNowait(run.kind, {
    startEvent: run.input,
    idempotencyKey: run.key,
  });
  run.id = started.handlerId;
  run.acknowledged = true;
}

/** An ask run's answer, with its key: every copy is the same request. */
const sendAnswer = (client: WorkflowClient, run: Run) =>
  client.sendEvent(
    run.id as string,
    { type: "Answer", value: { text: answerFor(run.input["n"] as number) } },
    { idempotencyKey: `answer-${run.key}` },
  );

/** The parts of an envelope that must not change between reads (the client camelCases the names). */
function comparable(ev: Envelope) {
  return { sequence: ev.sequence, type: ev.type, value: ev.value, types: ev.types };
}
