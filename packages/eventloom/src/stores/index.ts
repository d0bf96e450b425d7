export * from "./leases.js";
export { MemoryStore } from "./memory/index.js";
export {
  type ListenState,
  PostgresStore,
  type PostgresStoreLogger,
  type PostgresStoreOptions,
} from "./postgres/index.js";
export { SqliteStore, type SqliteStoreOptions } from "./sqlite/index.js";
export * from "./store.js";
