// `eventloom/postgres`: the Postgres store, in its own entry so that `pg` (an optional peer
// dependency) is loaded only by those who import it. Its types need neither `pg` nor `@types/pg`.
export type {
  ListenState,
  PostgresConnectionOptions,
  PostgresStoreLogger,
  PostgresStoreOptions,
} from "./options.js";
export { PostgresStore } from "./postgres-store.js";
