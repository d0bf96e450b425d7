// The chat example's server: the chat workflow on the fake model, under /api (main.ts serves the
// page beside it). `npx eventloom serve examples/chat/server.ts` serves it alone.
import { WorkflowServer } from "eventloom/server";
import { chatWorkflow } from "./chat-workflow.js";
import { fakeModel, steadyPace } from "./fake-model.js";

/** The server's workflows, for typed clients and hooks. */
export const workflows = { chat: chatWorkflow(fakeModel({ pace: steadyPace(80) })) };

export function createChatServer(basePath = "/api"): WorkflowServer {
  const server = new WorkflowServer({ basePath });
  server.addWorkflow("chat", workflows.chat);
  return server;
}
