export * from "./codec.js";
export * from "./envelope-json.js";
export * from "./error-status.js";
export * from "./incoming-event.js";
export * from "./openapi.js";
export * from "./parse.js";
export * from "./wire.js";
export * from "./wire-values.js";
