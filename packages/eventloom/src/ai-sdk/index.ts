// eventloom/ai-sdk: a workflow's run in the Vercel AI SDK's UI message stream (`useChat`). The `ai`
// package is an optional peer dependency, for its types only.
export {
  type AnsweredQuestion,
  type ChatStorage,
  WorkflowChatTransport,
  type WorkflowChatTransportOptions,
} from "./chat-transport.js";
export { type ChunksEnd, questionId, RunChunks, type RunChunksOptions } from "./run-chunks.js";
