// The README's "A workflow", whole: a server file that exports its workflows as a map, registers
// each entry, and is what `my-client.ts` takes its types from.
// Serve it with: npx eventloom serve examples/my-server.ts

import { defineEvent, InputRequiredEvent, StartEvent, StopEvent, Workflow } from "eventloom";
import { WorkflowServer } from "eventloom/server";
import { z } from "zod";

export const Greet = defineEvent(
  "Greet",
  z.object({ name: z.string(), greeting: z.string().default("Hello") }), // `greeting` may be left out
  { extends: StartEvent },
);
export const greet = new Workflow({ name: "GreetWorkflow" }).step(
  "greet",
  { accepts: [Greet], emits: [StopEvent] },
  async (_ctx, ev) => StopEvent.create({ result: `${ev.data.greeting}, ${ev.data.name}!` }), // typed, defaulted
);

export const AskName = defineEvent("AskName", z.object({ prompt: z.string() }), {
  extends: InputRequiredEvent, // published to the stream; the debugger offers to answer it
});
export const Name = defineEvent("Name", z.object({ name: z.string() })); // comes from outside: see waitsFor
export const human = new Workflow({ name: "AskNameWorkflow", timeout: 3600 }).step(
  "ask",
  { accepts: [StartEvent], emits: [AskName, StopEvent], waitsFor: [Name] }, // on the graph; taken from outside
  async (ctx) => {
    // The step ends at the wait and runs again from its start once the answer comes.
    const answer = await ctx.waitForEvent(Name, { waiterEvent: AskName.create({ prompt: "Your name?" }) });
    return StopEvent.create({ result: `Hello, ${answer.data.name}` });
  },
);

export const workflows = { greet, human }; // the client imports its type

const server = new WorkflowServer();
for (const [name, workflow] of Object.entries(workflows)) server.addWorkflow(name, workflow);
export default server;
