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

// The store defaults to SQLite in .workflows/workflows.db (WORKFLOWS_DB overrides it).
const server = new WorkflowServer();
server
  .addWorkflow("greet", greeting) // the seed's streaming greeting
  .addWorkflow("human", human) // the seed's human in the loop
  .addWorkflow("math", math) // typed start event, custom stop event
  .addWorkflow("fan-out", fanOut) // sendEvent + collectEvents, numWorkers
  .addWorkflow("counter", counter) // ctx.store with a zod state schema
  .addWorkflow("approval", approval) // waitForEvent, declared with waitsFor
  .addWorkflow("flaky", flaky) // retries
  .addWorkflow("trip-planner", tripPlanner); // nested and optional start fields

export default server;
