/**
 * `eventloom/testing`: what tests of workflows and stores need. Runs under vitest (an optional peer
 * dependency of this entry only; the store contract also uses fast-check).
 */
export { FakeClock, settle } from "./fake-clock.js";
export {
  handlerRecord,
  inboxItem,
  type OpenStore,
  publishedEvent,
  runState,
  runStoreContract,
} from "./store-contract/index.js";
export {
  type CollectedEvent,
  type TestRunOptions,
  type TestRunResult,
  WorkflowTestRunner,
} from "./test-runner.js";
