export * from "./errors.js";
export * from "./events.js";
export type * from "./run-state.js";
