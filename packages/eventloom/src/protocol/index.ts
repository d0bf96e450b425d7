export * from "./codec.js";
export * from "./envelope-json.js";
export * from "./error-status.js";
export * from "./incoming-event.js";
export * from "./openapi.js";
export * from "./parse.js";
export * from "./routes.js";
export * from "./wire.js";
