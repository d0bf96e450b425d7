// Issue 21: what the Postgres store itself refuses, whatever its writer does. Fencing is mandatory
// for a handler that has a lease, and for every handler of a fenced batch; a record that ended is
// never changed under the same run; a sequence conflict on a fenced handler is a lost lease.
import { randomBytes } from "node:crypto";
import { afterAll, describe, expect, it } from "vitest";
import type { PublishedEvent } from "../../src/core/index.js";
import { CLAIM_TOKEN, LeaseLostError } from "../../src/stores/leases.js";
import { PostgresStore } from "../../src/stores/postgres/index.js";
import { eventRows, SequenceConflictError } from "../../src/stores/store.js";
import { handlerRecord } from "../../src/testing/store-contract/index.js";
import { useFreshDatabase } from "../support/fresh-database.js";

const db = useFreshDatabase("workflows_pgfence_fencing");
const opened: PostgresStore[] = [];

afterAll(async () => {
  await Promise.allSettled(opened.map((s) => s.close()));
});

async function freshStore(options: { prepareCommit?: boolean } = {}): Promise<PostgresStore> {
  const store = new PostgresStore(
    { connectionString: db.url, max: 4 },
    { schema: `f_${randomBytes(4).toString("hex")}`, ...options },
  );
  opened.push(store);
  await store.init();
  return store;
}

const event = (sequence: number): PublishedEvent => ({
  sequence,
  type: "Ping",
  qualifiedName: "Ping",
  types: ["Ping"],
  value: {},
  internal: false,
  timestamp: "2026-01-01T00:00:00.000Z",
});

const refused = async (promise: Promise<unknown>): Promise<readonly string[]> => {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(LeaseLostError);
  return (error as LeaseLostError).handlerIds;
};

describe("the Postgres store's fencing", () => {
  it("refuses an unfenced write to a handler that has a lease, and writes nothing of the batch", async () => {
    const store = await freshStore();
    await store.acquireLease("leased", "p1", 60_000);
    const ids = await refused(store.commit({ handlers: [handlerRecord("leased"), handlerRecord("free")] }));
    expect(ids).toEqual(["leased"]);
    expect(await store.getHandler("leased")).toBeNull();
    expect(await store.getHandler("free")).toBeNull();
  });

  it("refuses, in a fenced batch, every handler written without a fence", async () => {
    const store = await freshStore();
    const lease = await store.acquireLease("mine", "p1", 60_000);
    const fence = [{ handlerId: "mine", owner: "p1", token: lease!.token }];
    expect(
      await refused(
        store.commit({
          handlers: [handlerRecord("mine")],
          events: [{ handlerId: "forgotten", events: eventRows([event(0)]) }],
          fence,
        }),
      ),
    ).toEqual(["forgotten"]);
    // An empty fence list is a fenced batch too: the writer holds leases, and holds none of these.
    expect(await refused(store.commit({ handlers: [handlerRecord("forgotten")], fence: [] }))).toEqual([
      "forgotten",
    ]);
    await store.commit({ handlers: [handlerRecord("mine")], fence });
    expect(await store.getHandler("mine")).toEqual(handlerRecord("mine"));
  });

  it("never changes a record that ended under the same run, and takes a new run of the handler", async () => {
    const store = await freshStore();
    const done = handlerRecord("h", {
      status: "completed",
      result: { v: 1 },
      completedAt: "2026-01-01T00:00:01.000Z",
    });
    await store.commit({ handlers: [done] });
    expect(await refused(store.commit({ handlers: [handlerRecord("h")] }))).toEqual(["h"]);
    expect(await refused(store.commit({ handlers: [{ ...done, result: { v: 2 } }] }))).toEqual(["h"]);
    expect(await store.getHandler("h")).toEqual(done);
    // The same outcome again (the retry of a commit that landed) is taken.
    await store.commit({ handlers: [done] });
    const next = handlerRecord("h", { runId: "run-2" });
    await store.commit({ handlers: [next] });
    expect(await store.getHandler("h")).toEqual(next);
  });

  it("answers a sequence conflict on a fenced handler as a lost lease, on an unfenced one as a conflict", async () => {
    const store = await freshStore();
    await store.commit({ events: [{ handlerId: "u", events: eventRows([event(0)]) }] });
    await expect(
      store.commit({ events: [{ handlerId: "u", events: eventRows([event(0)]) }] }),
    ).rejects.toBeInstanceOf(SequenceConflictError);
    const lease = await store.acquireLease("u", "p1", 60_000);
    const fence = [{ handlerId: "u", owner: "p1", token: lease!.token }];
    expect(
      await refused(store.commit({ events: [{ handlerId: "u", events: eventRows([event(0)]) }], fence })),
    ).toEqual(["u"]);
  });

  it("gives the lease back in the commit that ends a fenced handler's record (no release of its own)", async () => {
    const store = await freshStore();
    const lease = await store.acquireLease("ending", "p1", 60_000);
    const fence = [{ handlerId: "ending", owner: "p1", token: lease!.token }];
    await store.commit({ handlers: [handlerRecord("ending")], fence });
    expect(await store.getLease("ending")).not.toBeNull();
    await store.commit({
      handlers: [handlerRecord("ending", { status: "completed", completedAt: "2026-01-01T00:00:01.000Z" })],
      fence,
    });
    expect(await store.getLease("ending")).toBeNull();
  });

  it("creates the lease of a new handler in the commit that claims it (none when the record ends in it), refused when a lease row is there", async () => {
    const store = await freshStore();
    const claim = (handlerId: string, owner = "p1") => ({
      handlerId,
      owner,
      token: CLAIM_TOKEN,
      claimTtlMs: 60_000,
    });
    await store.commit({ handlers: [handlerRecord("new")], fence: [claim("new")] });
    expect(await store.getLease("new")).toMatchObject({ owner: "p1", token: CLAIM_TOKEN });
    // The retry of a claiming commit that landed is taken; later commits fence it like any lease.
    await store.commit({ handlers: [handlerRecord("new")], fence: [claim("new")] });
    await store.commit({
      handlers: [handlerRecord("new")],
      fence: [{ handlerId: "new", owner: "p1", token: 0 }],
    });
    // Another owner's claim, or a claim of a handler another process has a lease on, is refused.
    expect(
      await refused(store.commit({ handlers: [handlerRecord("new")], fence: [claim("new", "p2")] })),
    ).toEqual(["new"]);
    await store.acquireLease("taken", "p2", 60_000);
    expect(
      await refused(store.commit({ handlers: [handlerRecord("taken")], fence: [claim("taken")] })),
    ).toEqual(["taken"]);
    expect(await store.getHandler("taken")).toBeNull();
    // A fence that claims nothing still needs the lease row.
    expect(
      await refused(
        store.commit({
          handlers: [handlerRecord("none")],
          fence: [{ handlerId: "none", owner: "p1", token: 0 }],
        }),
      ),
    ).toEqual(["none"]);
    // A run that ends in the commit that claims it leaves no lease behind.
    const ended = handlerRecord("short", { status: "completed", completedAt: "2026-01-01T00:00:01.000Z" });
    await store.commit({ handlers: [ended], fence: [claim("short")] });
    expect(await store.getHandler("short")).toEqual(ended);
    expect(await store.getLease("short")).toBeNull();
    // Any later acquisition of a claimed handler gets a greater token.
    expect((await store.acquireLease("new", "p1", 60_000))!.token).toBeGreaterThan(CLAIM_TOKEN);
  });

  it("fences the same way with the commit statement not prepared (prepareCommit: false, for poolers)", async () => {
    const store = await freshStore({ prepareCommit: false });
    const lease = await store.acquireLease("plain", "p1", 60_000);
    await store.commit({
      handlers: [handlerRecord("plain")],
      fence: [{ handlerId: "plain", owner: "p1", token: lease!.token }],
    });
    expect(await store.getHandler("plain")).toEqual(handlerRecord("plain"));
    expect(await refused(store.commit({ handlers: [handlerRecord("plain")], fence: [] }))).toEqual(["plain"]);
  });

  it("writes an inbox item and says in the same statement whether a live lease holds its handler, by the database's clock", async () => {
    const store = await freshStore();
    const item = (id: string) => ({
      id,
      event: { type: "Ping", qualifiedName: "Ping", data: {} },
      step: null,
      receivedAt: "2026-01-01T00:00:00.000Z",
    });
    expect(await store.appendInboxLeased("inboxed", item("a"))).toBe(false);
    await store.acquireLease("inboxed", "p1", 60_000);
    expect(await store.appendInboxLeased("inboxed", item("b"))).toBe(true);
    // An expired lease (ttl 0: expired by the database's now()) holds nothing.
    await store.acquireLease("inboxed", "p1", 0);
    expect(await store.appendInboxLeased("inboxed", item("c"))).toBe(false);
    expect((await store.readInbox("inboxed")).map((i) => i.id)).toEqual(["a", "b", "c"]);
  });

  it("takes the leases asked for in one turn in one statement, each with its own token, one winner per handler", async () => {
    const store = await freshStore();
    await store.acquireLease("taken", "p2", 60_000);
    const ids = ["a", "b", "c", "taken", "a"];
    const leases = await Promise.all(ids.map((id) => store.acquireLease(id, "p1", 60_000)));
    expect(leases.map((l) => l?.owner ?? null)).toEqual(["p1", "p1", "p1", null, "p1"]);
    const tokens = leases.filter((l) => l !== null).map((l) => l.token);
    expect(new Set(tokens).size).toBe(tokens.length);
    // "a" asked twice: the second acquisition is a new one, with a higher token.
    expect(leases[4]!.token).toBeGreaterThan(leases[0]!.token);
  });
});
