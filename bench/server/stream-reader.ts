// A reader in its own process, as a real client is: started by stream-bench.ts, it reads the events
// of the handler id it gets on stdin through WorkflowClient and prints how many Tick events arrived.
import { createInterface } from "node:readline";
import { WorkflowClient } from "../../packages/eventloom/src/client/index.js";

const client = new WorkflowClient({ baseUrl: process.argv[2] ?? "" });
const lines = createInterface({ input: process.stdin });
process.stdout.write("ready\n");
for await (const handlerId of lines) {
  let count = 0;
  for await (const ev of client.getWorkflowEvents(handlerId)) if (ev.type === "Tick") count++;
  process.stdout.write(`${JSON.stringify({ count })}\n`);
}
