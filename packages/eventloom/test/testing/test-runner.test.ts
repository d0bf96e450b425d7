// WorkflowTestRunner (eventloom/testing): runs a workflow in process on a fake clock, collects what it
// publishes, answers its input-required events and gives its result.
import {
  constantDelay,
  defineEvent,
  HumanResponseEvent,
  InputRequiredEvent,
  StartEvent,
  StopEvent,
  Workflow,
} from "eventloom";
import { FakeClock, WorkflowTestRunner } from "eventloom/testing";
import { expect, it } from "vitest";
import { z } from "zod";

const Progress = defineEvent("RunnerProgress", z.object({ attempt: z.number() }));
const AskName = defineEvent("RunnerAskName", z.object({ prompt: z.string() }), {
  extends: InputRequiredEvent,
});
const Name = defineEvent("RunnerName", z.object({ name: z.string() }), { extends: HumanResponseEvent });

it("collects the published events and the result, with retry delays taking no real time", async () => {
  let calls = 0;
  const flaky = new Workflow({ name: "Flaky", timeout: null }).step(
    "work",
    { accepts: [StartEvent], emits: [StopEvent], retry: constantDelay(3, 60) },
    async (ctx) => {
      calls++;
      ctx.writeEventToStream(Progress.create({ attempt: ctx.attempt }));
      if (ctx.attempt < 3) throw new Error("not yet");
      return StopEvent.create({ result: "done" });
    },
  );
  const started = Date.now();
  const run = await new WorkflowTestRunner(flaky).run();
  expect(run).toMatchObject({ status: "completed", result: "done", error: null, elapsedMs: 120_000 });
  expect(run.eventTypes).toEqual(["RunnerProgress", "RunnerProgress", "RunnerProgress", "StopEvent"]);
  expect(run.events.map((e) => e.data["attempt"])).toEqual([1, 2, 3, undefined]);
  expect(calls).toBe(3);
  // Two minutes of retry delays passed on the fake clock only.
  expect(Date.now() - started).toBeLessThan(60_000);
});

const greeter = new Workflow({ name: "Greeter", timeout: null }).step(
  "greet",
  { accepts: [StartEvent], emits: [StopEvent], waitsFor: [Name] },
  async (ctx) => {
    const reply = await ctx.waitForEvent(Name, { waiterEvent: AskName.create({ prompt: "Your name?" }) });
    return StopEvent.create({ result: `Hello, ${reply.data.name}!` });
  },
);

it("answers the run's input-required events with respond", async () => {
  const asked: string[] = [];
  const run = await new WorkflowTestRunner(greeter).run(StartEvent.create({}), {
    respond: (event) => {
      asked.push(String(event.data["prompt"]));
      return Name.create({ name: "Ada" });
    },
  });
  expect(asked).toEqual(["Your name?"]);
  expect(run.result).toBe("Hello, Ada!");
  expect(run.eventTypes).toEqual(["RunnerAskName", "StopEvent"]);
});

it("says so when the run waits for an event nobody sends", async () => {
  await expect(new WorkflowTestRunner(greeter).run()).rejects.toThrow(/waits for an event nobody sends/);
});

it("reports a failed run with its error, after the workflow's timeout on the fake clock", async () => {
  const clock = new FakeClock();
  const slow = new Workflow({ name: "Slow", timeout: 30 }).step(
    "wait",
    { accepts: [StartEvent], emits: [StopEvent], waitsFor: [Name] },
    async (ctx) => StopEvent.create({ result: (await ctx.waitForEvent(Name)).data.name }),
  );
  const run = await new WorkflowTestRunner(slow, { clock }).run();
  expect(run).toMatchObject({ status: "failed", result: null, error: "Workflow timed out after 30s" });
  expect(run.elapsedMs).toBe(30_000);
  expect(clock.pending).toBe(0);
});
