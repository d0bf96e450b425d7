import {
  constantDelay,
  exponentialBackoff,
  StartEvent,
  StepFailedError,
  StopEvent,
  Workflow,
} from "eventloom";
import { describe, expect, it } from "vitest";
import { retryDelayMs } from "../../src/core/retry.js";
import { FakeClock } from "./fake-clock.js";

describe("retries", () => {
  it("computes fixed, exponential, capped and jittered delays", () => {
    const none = () => 0.5;
    expect(retryDelayMs(constantDelay(3, 2), 2, none)).toBe(2000);
    expect(retryDelayMs(constantDelay(3, 2), 3, none)).toBe(2000);
    const exp = exponentialBackoff({ maxAttempts: 5, delay: 1, maxDelay: 3 });
    expect([2, 3, 4, 5].map((n) => retryDelayMs(exp, n, none))).toEqual([1000, 2000, 3000, 3000]);
    const jitter = { maxAttempts: 2, delay: 1, jitter: 0.5 };
    expect(retryDelayMs(jitter, 2, () => 0)).toBe(500);
    expect(retryDelayMs(jitter, 2, () => 1)).toBe(1500);
  });

  it("retries a failing step after its delays and succeeds", async () => {
    const clock = new FakeClock();
    const attemptsAt: number[] = [];
    const wf = new Workflow({ name: "w", timeout: null }).step(
      "flaky",
      { accepts: [StartEvent], emits: [StopEvent], retry: { maxAttempts: 3, delay: 1, backoff: 2 } },
      (ctx) => {
        attemptsAt.push(clock.now());
        if (ctx.attempt < 3) throw new Error(`attempt ${ctx.attempt}`);
        return StopEvent.create({ result: ctx.attempt });
      },
    );
    const handler = wf.run(undefined, { clock });
    await clock.advance(0);
    expect(attemptsAt.length).toBe(1);
    expect(Object.values(handler.state.retries)).toHaveLength(1);
    await clock.advance(999);
    expect(attemptsAt.length).toBe(1);
    await clock.advance(1);
    expect(attemptsAt.length).toBe(2);
    await clock.advance(2000);
    await expect(handler).resolves.toBe(3);
    expect(attemptsAt.map((t) => t - (attemptsAt[0] as number))).toEqual([0, 1000, 3000]);
  });

  it("says on each step-state change which attempt it is, and what a failed attempt threw", async () => {
    const clock = new FakeClock();
    const wf = new Workflow({ name: "w", timeout: null }).step(
      "flaky",
      { accepts: [StartEvent], emits: [StopEvent], retry: constantDelay(2, 1) },
      (ctx) => {
        if (ctx.attempt < 2) throw new RangeError(`attempt ${ctx.attempt}`);
        return StopEvent.create({ result: ctx.attempt });
      },
    );
    const handler = wf.run(undefined, { clock });
    const states: unknown[] = [];
    const read = (async () => {
      for await (const ev of handler.stream({ includeInternal: true }))
        if (ev.type === "StepStateChanged") {
          const { state, attempt, error } = ev.data as Record<string, unknown>;
          states.push({ state, attempt, error });
        }
    })();
    await clock.advance(0);
    await clock.advance(1000);
    await handler;
    await read;
    expect(states).toEqual([
      { state: "running", attempt: 1, error: undefined },
      {
        state: "idle",
        attempt: 1,
        error: {
          name: "RangeError",
          message: "attempt 1",
          stack: expect.stringMatching(/^RangeError: attempt 1\n/),
        },
      },
      { state: "running", attempt: 2, error: undefined },
      { state: "idle", attempt: 2, error: undefined },
    ]);
  });

  it("gives up after maxAttempts and reports the attempts", async () => {
    const clock = new FakeClock();
    const wf = new Workflow({ name: "w", timeout: null }).step(
      "bad",
      { accepts: [StartEvent], emits: [StopEvent], retry: constantDelay(2, 1) },
      () => {
        throw new TypeError("nope");
      },
    );
    const handler = wf.run(undefined, { clock });
    const settled = handler.then(
      () => null,
      (e: unknown) => e,
    );
    await clock.advance(1000);
    const error = (await settled) as StepFailedError;
    expect(error).toBeInstanceOf(StepFailedError);
    expect(error.attempts).toBe(2);
    expect(error.message).toBe('Step "bad" failed after 2 attempt(s): nope');
    expect(handler.outcome?.stopEvent.data).toMatchObject({ attempts: 2, error: { name: "TypeError" } });
  });

  it("retryOn decides which errors are retried", async () => {
    let calls = 0;
    const wf = new Workflow({ name: "w" }).step(
      "s",
      {
        accepts: [StartEvent],
        emits: [StopEvent],
        retry: { maxAttempts: 5, delay: 0, retryOn: (e) => (e as Error).message !== "fatal" },
      },
      () => {
        calls++;
        throw new Error("fatal");
      },
    );
    await expect(wf.run()).rejects.toThrow(/fatal/);
    expect(calls).toBe(1);
  });

  it("a step timeout fails the attempt, aborts its signal and is retried", async () => {
    const clock = new FakeClock();
    const signals: AbortSignal[] = [];
    const wf = new Workflow({ name: "w", timeout: null }).step(
      "slow",
      { accepts: [StartEvent], emits: [StopEvent], timeout: 2, retry: constantDelay(2, 0) },
      (ctx) => {
        signals.push(ctx.signal);
        return new Promise(() => {});
      },
    );
    const handler = wf.run(undefined, { clock });
    const settled = handler.then(
      () => null,
      (e: unknown) => e,
    );
    await clock.advance(2000);
    expect(signals).toHaveLength(2);
    expect(signals[0]?.aborted).toBe(true);
    await clock.advance(2000);
    expect(((await settled) as Error).message).toMatch(/Step "slow" timed out after 2s/);
  });
});
