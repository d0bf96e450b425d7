// Crash torture: start the server through the CLI on a SQLite file, drive a mix of runs through the
// real client, SIGKILL it at a random moment, check the database, restart, again. Then let every run
// finish and check that nothing was lost and every result is what an uninterrupted run gives.
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
import { checkStore } from "./support/store-invariants.js";

const CYCLES = sized(5, 80);
const RUNS_PER_CYCLE = sized(12, 16);
const BUDGET_MS = sized(70_000, 8 * 60_000);
const KINDS: TortureKind[] = ["stream", "ask", "fan-out", "fail", "retry"];
const TERMINAL = "workflows.events.StopEvent";

interface Run {
  id: string;
  kind: TortureKind;
  input: Record<string, number>;
  /** run-nowait answered 200: the handler must exist from now on. */
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
  it("survives SIGKILL at random moments: no handler lost, acknowledged answers delivered, gap-free streams, uninterrupted results, sound database", {
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
      for (const run of runs.values()) {
        if (!run.acknowledged) continue;
        const info = await client.getHandler(run.id).catch((e: unknown) => e);
        if (info instanceof WorkflowClientError && info.status === 404) continue;
        if (info instanceof Error) throw info;
        if ((info as { status: string }).status === "running") follow(run.id);
      }

      const answer = async (run: Run) => {
        try {
          await client.sendEvent(run.id, {
            type: "Answer",
            value: { text: answerFor(run.input["n"] as number) },
          });
          run.answer = "acked";
          acknowledgedSends++;
        } catch (error) {
          if (!alive) {
            run.answer = "tried";
            lostSends++;
            return;
          }
          // A lost answer sent again may find it delivered after all: the run ended (409), or the
          // waiter already answered (400). Any other refusal is a failure.
          const resent = run.answer === "tried" && error instanceof WorkflowClientError;
          if (!resent || (error.status !== 409 && error.status !== 400)) throw error;
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
            id: `run-${n}`,
            kind,
            input: startInput(kind, n, random),
            acknowledged: false,
            answer: "none",
          };
          n++;
          runs.set(run.id, run);
          try {
            await client.runWorkflowNowait(kind, {
              handlerId: run.id,
              startEvent: run.input,
            });
            run.acknowledged = true;
            follow(run.id);
          } catch (error) {
            if (alive) throw error;
            return;
          }
          for (const id of asked) {
            const r = runs.get(id) as Run;
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
          if (run.acknowledged) expect(stored.has(run.id), `${run.id} lost (seed ${SEED})`).toBe(true);
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
      const info = await client.getResult(run.id).catch((e: unknown) => e);
      if (info instanceof WorkflowClientError && info.status === 404 && !run.acknowledged) {
        runs.delete(run.id); // its start was cut by a kill before it was recorded
        continue;
      }
      if (info instanceof Error) throw info;
      if (run.kind === "ask" && run.answer !== "acked" && (info as { status: string }).status === "running") {
        const sent = await client
          .sendEvent(run.id, { type: "Answer", value: { text: answerFor(run.input["n"] as number) } })
          .catch((e: unknown) => e);
        if (sent instanceof WorkflowClientError && run.answer === "tried" && [400, 409].includes(sent.status))
          continue;
        if (sent instanceof Error) throw sent;
      }
    }
    let events = 0;
    let rerunSteps = 0;
    for (const run of runs.values()) {
      const stream = await readEvents(`${url}/events/${run.id}?sse=false&include_internal=true`);
      expect(stream.ended, `${run.id} stream ends`).toBe(true);
      const sequences = stream.events.map((e) => e.sequence);
      expect(sequences, `${run.id}: gap-free, no repeats`).toEqual(sequences.map((_, i) => i));
      for (const [seq, ev] of seen.get(run.id) ?? []) {
        expect(comparable(stream.events[seq] as Envelope), `${run.id}#${seq} as first read`).toEqual(
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
      const result = await client.getResult(run.id);
      const expected = expectedOutcome(run.kind, run.input);
      expect({ id: run.id, status: result.status }).toEqual({ id: run.id, status: expected.status });
      if (expected.status === "completed") expect(result.result, run.id).toEqual(expected.result);
      else expect(result.error, run.id).toContain(expected.errorIncludes);
      finals.set(run.id, result);
    }
    cli.child.kill("SIGTERM");
    expect((await cli.exited).code).toBe(0);
    const store = new SqliteStore(db);
    expect(store.integrityCheck()).toBe("ok");
    expect((await checkStore(store)).problems).toEqual([]);
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
      readers_cut: readersCut,
      ticks_rerun_after_a_kill: rerunSteps,
      lost: 0,
      seconds: Math.round((Date.now() - started) / 1000),
    });
    expect(cycles).toBeGreaterThanOrEqual(Math.min(CYCLES, 3));
  });
});

/** The parts of an envelope that must not change between reads (the client camelCases the names). */
function comparable(ev: Envelope) {
  return { sequence: ev.sequence, type: ev.type, value: ev.value, types: ev.types };
}
