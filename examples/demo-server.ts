// The demo that `npm start` serves: the seed's two workflows plus one example per feature.
//   npm start   →  open http://127.0.0.1:8080/ for the debugger
import { WorkflowServer } from "eventloom/server";
import { approval } from "./approval.js";
import { counter } from "./counter-state.js";
import { fanOut } from "./fan-out.js";
import { flaky } from "./flaky.js";
import { greeting } from "./greeting-server.js";
import { human } from "./human-in-the-loop-server.js";
import { math } from "./math.js";
import { tripPlanner } from "./trip-planner.js";

/** Every example by the name it is served under; a typed client takes `typeof workflows`. */
export const workflows = {
  greet: greeting, // the seed's streaming greeting
  human, // the seed's human in the loop
  math, // typed start event, custom stop event
  "fan-out": fanOut, // sendEvent + collectEvents, numWorkers
  counter, // ctx.store with a zod state schema
  approval, // waitForEvent, declared with waitsFor
  flaky, // retries
  "trip-planner": tripPlanner, // nested and optional start fields
};

// The store defaults to SQLite in .workflows/workflows.db (WORKFLOWS_DB overrides it).
const server = new WorkflowServer();
for (const [name, workflow] of Object.entries(workflows)) server.addWorkflow(name, workflow);

export default server;
