export type { ListenState } from "./change-feed.js";
export { type Migration, migrations } from "./migrations.js";
export type { PostgresStoreLogger, PostgresStoreOptions } from "./options.js";
export { PostgresStore } from "./postgres-store.js";
