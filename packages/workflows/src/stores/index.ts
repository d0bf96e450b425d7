export { MemoryStore } from "./memory/index.js";
export { SqliteStore, type SqliteStoreOptions } from "./sqlite/index.js";
export * from "./store.js";
