import type { Clock } from "../../core/index.js";
import { isLeaseStore } from "../../stores/leases.js";
import type { Store } from "../../stores/store.js";
import type { ServerLogger } from "../logger.js";
import { LeasedOwnership } from "./leased-ownership.js";
import { type Ownership, soloOwnership } from "./ownership.js";

export type { OwnedRuns, Ownership } from "./ownership.js";

/**
 * The ownership a server process needs on `store`: leased when the store can be shared by several
 * processes (it implements leases, like Postgres), solo otherwise.
 */
export function ownershipFor(
  store: Store,
  options: { ttlMs: number; logger: ServerLogger; clock: Clock },
): Ownership {
  return isLeaseStore(store) ? new LeasedOwnership(store, options) : soloOwnership(store);
}
