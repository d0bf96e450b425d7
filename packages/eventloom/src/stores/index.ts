// The stores `eventloom/server` exports. The Postgres store is `eventloom/postgres`, so that `pg` is
// loaded only by those who use it.
export * from "./leases.js";
export { MemoryStore } from "./memory/index.js";
export { SqliteStore, type SqliteStoreOptions } from "./sqlite/index.js";
export * from "./store.js";
