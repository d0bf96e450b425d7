// The lease rules on the process's side, on a fake clock: renewal every ttl/3, and a process cut off
// from the store stops its runs after 0.6 × ttl without a renewal. The store is a real Postgres.
import { randomBytes } from "node:crypto";
import { afterEach, expect, it } from "vitest";
import { LeaseKeeper } from "../../../src/server/cluster/lease-keeper.js";
import { silentLogger } from "../../../src/server/logger.js";
import { CLAIM_TOKEN, type LeaseStore } from "../../../src/stores/leases.js";
import { PostgresStore } from "../../../src/stores/postgres/index.js";
import { handlerRecord } from "../../../src/testing/store-contract/index.js";
import { FakeClock } from "../../core/fake-clock.js";
import { useFreshDatabase } from "../../support/fresh-database.js";
import { until } from "../helpers.js";

const TTL = 30_000;
const db = useFreshDatabase("workflows_lease_clock");
const stores: PostgresStore[] = [];
afterEach(async () => {
  await Promise.allSettled(stores.splice(0).map((s) => s.close()));
});

/** A real store whose renewals are counted, and can be made to hang (a connection that stalls). */
async function storeWithRenewals() {
  const store = new PostgresStore(db.url, { schema: `lk_${randomBytes(4).toString("hex")}` });
  stores.push(store);
  await store.init();
  const renewals = { calls: 0, answered: 0, hang: false };
  const renewLeases: LeaseStore["renewLeases"] = async (owner, ids, ttl) => {
    renewals.calls++;
    if (renewals.hang) return new Promise(() => {});
    const lost = await store.renewLeases(owner, ids, ttl);
    renewals.answered++;
    return lost;
  };
  const counted = new Proxy(store, {
    get: (target, key) => {
      if (key === "renewLeases") return renewLeases;
      const value = Reflect.get(target, key, target) as unknown;
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  return { store: counted, renewals };
}

/** A keeper on the fake clock holding `held`, and the ids it reports lost. */
function keeperOf(
  store: ConstructorParameters<typeof LeaseKeeper>[0],
  clock: FakeClock,
  held: string,
): { keeper: LeaseKeeper; lost: string[] } {
  const lost: string[] = [];
  const keeper = new LeaseKeeper(store, {
    ttlMs: TTL,
    clock,
    logger: silentLogger,
    held: () => [held],
    onLost: (ids) => lost.push(...ids),
  });
  return { keeper, lost };
}

it("renews the leases of the runs it holds every ttl/3 of its clock", async () => {
  const clock = new FakeClock();
  const { store, renewals } = await storeWithRenewals();
  const { keeper, lost } = keeperOf(store, clock, "h1");
  expect(await keeper.acquire("h1")).toBe(true);
  keeper.start();
  await clock.advance(TTL / 3 - 1);
  expect(renewals.calls).toBe(0);
  await clock.advance(1);
  expect(renewals.calls).toBe(1);
  // Ten lease lifetimes, each renewal answered (by the real database) before the clock moves on.
  for (let i = 0; i < 30; i++) {
    await until(() => renewals.answered === renewals.calls);
    await clock.advance(TTL / 3);
  }
  await until(() => renewals.answered === renewals.calls);
  expect(renewals.calls).toBe(31);
  expect(lost).toEqual([]);
  expect(keeper.fences(["h1"])).toHaveLength(1);
  keeper.stop();
  await clock.advance(TTL);
  expect(renewals.calls).toBe(31);
});

it("stops a run whose lease it could not renew for 0.6 × ttl, before anyone may take it over", async () => {
  const clock = new FakeClock();
  const { store, renewals } = await storeWithRenewals();
  const { keeper, lost } = keeperOf(store, clock, "h2");
  expect(await keeper.acquire("h2")).toBe(true);
  keeper.start();
  renewals.hang = true;
  // Renewals at ttl/3 and 2·ttl/3 hang; at 2·ttl/3 the last renewal (the acquisition) is 0.667 ttl old.
  await clock.advance(TTL / 3);
  expect(lost).toEqual([]);
  await clock.advance(TTL / 3);
  expect(lost).toEqual(["h2"]);
  expect(keeper.fences(["h2"])).toEqual([]);
  keeper.stop();
});

it("does not report lost a lease this process gave up while a renewal of it was in flight", async () => {
  const clock = new FakeClock();
  const store = new PostgresStore(db.url, { schema: `lk_${randomBytes(4).toString("hex")}` });
  stores.push(store);
  await store.init();
  // Renewals wait for the gate: the run ends (its last commit gives the lease back) meanwhile.
  let open: (() => void) | undefined;
  const gate = new Promise<void>((resolve) => {
    open = resolve;
  });
  let answered = 0;
  const renew = store.renewLeases.bind(store);
  const gated: LeaseStore["renewLeases"] = async (...args) => {
    await gate;
    const lost = await renew(...args);
    answered++;
    return lost;
  };
  Object.assign(store, { renewLeases: gated });
  const { keeper, lost } = keeperOf(store, clock, "h4");
  expect(await keeper.acquire("h4")).toBe(true);
  keeper.start();
  await clock.advance(TTL / 3);
  await keeper.release("h4");
  open?.();
  await until(() => answered === 1);
  expect(lost).toEqual([]);
  keeper.stop();
});

it("claims a new handler without a statement, renews it only once its first commit created the lease", async () => {
  const clock = new FakeClock();
  const { store, renewals } = await storeWithRenewals();
  const { keeper, lost } = keeperOf(store, clock, "new");
  keeper.claim("new");
  expect(keeper.holds("new")).toBe(true);
  keeper.start();
  // Not in the store yet: a renewal would find no lease and call it lost.
  await clock.advance(TTL / 3);
  expect(renewals.calls).toBe(0);
  expect(lost).toEqual([]);
  // Its first commit is sent now: the lease it creates lives a ttl from then at least.
  const [claim] = keeper.fences(["new"]);
  expect(claim).toEqual({ handlerId: "new", owner: keeper.owner, token: CLAIM_TOKEN, claimTtlMs: TTL });
  await store.commit({ handlers: [handlerRecord("new")], fence: [claim!] });
  keeper.landed([claim!]);
  expect(keeper.fences(["new"])).toEqual([{ handlerId: "new", owner: keeper.owner, token: CLAIM_TOKEN }]);
  await clock.advance(TTL / 3);
  expect(renewals.calls).toBe(1);
  await until(() => renewals.answered === 1);
  expect(lost).toEqual([]);
  keeper.stop();
});
