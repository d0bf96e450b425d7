// The README's typed client, whole: `WorkflowClient<typeof workflows>` through a type-only import,
// so that start events are checked at compile time and no server code reaches the client.
import { WorkflowClient } from "eventloom/client";
import type { workflows } from "./my-server.js";

export async function main(
  baseUrl = process.env.WORKFLOWS_URL ?? "http://127.0.0.1:8080",
): Promise<string[]> {
  const client = new WorkflowClient<typeof workflows>({ baseUrl });
  const greeted = await client.runWorkflow("greet", { startEvent: { name: "Ada" } }); // no `greeting`: it has a default
  // client.runWorkflow("greet", { startEvent: { nmae: "Ada" } }) does not compile: `name` is missing

  const { handlerId } = await client.runWorkflowNowait("human");
  for await (const ev of client.getWorkflowEvents(handlerId)) {
    if (ev.type === "AskName") await client.sendEvent(handlerId, { type: "Name", value: { name: "Bo" } });
  }
  const asked = await client.getResult(handlerId);
  return [String(greeted.result), String(asked.result)];
}

if (import.meta.url === `file://${process.argv[1]}`) console.log(await main());
