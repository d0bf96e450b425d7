export { RETENTION_BATCH, RetentionLoop, type RetentionLoopOptions } from "./retention-loop.js";
export {
  checkRetention,
  parseDuration,
  type RetentionOptions,
  retains,
  retentionFromEnv,
} from "./retention-options.js";
