// The stores `eventloom/server` exports. The Postgres store is `eventloom/postgres`, so that `pg` is
// loaded only by those who use it.
export * from "./idempotency.js";
export * from "./leases.js";
export { MemoryStore } from "./memory/index.js";
// Not ./sqlite/index.js: its migrations are typed with better-sqlite3, whose types we do not publish.
export { SqliteStore, type SqliteStoreOptions } from "./sqlite/sqlite-store.js";
export * from "./store.js";
