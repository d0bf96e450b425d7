export { type FileOwner, StoreInUseError } from "./file-lock.js";
export { LATEST_VERSION, type Migration, migrate, migrations } from "./migrations.js";
export { SqliteStore, type SqliteStoreOptions } from "./sqlite-store.js";
