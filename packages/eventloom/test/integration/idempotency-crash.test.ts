// Round 2 §2 as a property, on the real CLI and a real SQLite file: any sequence of requests that
// change something, each sent with its Idempotency-Key and sent again a random number of times,
// with the server killed (SIGKILL) at random moments (while the first copy is in flight, or between
// two copies), executes each request once and answers every copy that got an answer alike.
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import fc from "fast-check";
import { afterEach, describe, expect, it } from "vitest";
import { type CliProcess, startCli, tempDir } from "../cli/cli-process.js";
import { type Envelope, readEvents } from "../cli/http.js";

const fixture = fileURLToPath(new URL("./fixtures/idempotency-server.ts", import.meta.url));

/** One logical request. Indices pick among the carts and waiters made so far (modulo their number). */
type Command =
  | { kind: "cart" }
  | { kind: "waiter" }
  | { kind: "slow"; delayMs: number }
  | { kind: "item"; cart: number }
  | { kind: "cancel"; waiter: number };

/** How one logical request is sent: the kill points around its copies. */
interface Plan {
  command: Command;
  /** Copies after the first (each with the same key). */
  retries: number;
  /** Kill the server this many ms after the first copy left (null: not while it is in flight). */
  killInFlightAfterMs: number | null;
  /** Kill the server before this copy (index 1..retries) too. */
  killBefore: number | null;
}

const command: fc.Arbitrary<Command> = fc.oneof(
  fc.constant({ kind: "cart" as const }),
  fc.constant({ kind: "waiter" as const }),
  fc.record({ kind: fc.constant("slow" as const), delayMs: fc.integer({ min: 0, max: 300 }) }),
  fc.record({ kind: fc.constant("item" as const), cart: fc.nat(20) }),
  fc.record({ kind: fc.constant("item" as const), cart: fc.nat(20) }),
  fc.record({ kind: fc.constant("cancel" as const), waiter: fc.nat(20) }),
);

const plan: fc.Arbitrary<Plan> = fc.record({
  command,
  retries: fc.integer({ min: 0, max: 3 }),
  killInFlightAfterMs: fc.option(fc.integer({ min: 0, max: 120 }), { freq: 4 }),
  killBefore: fc.option(fc.integer({ min: 1, max: 3 }), { freq: 5 }),
});

interface Copy {
  status: number;
  text: string;
  replayed: boolean;
}

const running: CliProcess[] = [];
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((p) => p.kill()));
  for (const c of cleanups.splice(0)) await c();
});

/** A served CLI on `db` that the test kills and starts again. */
class Server {
  cli!: CliProcess;
  url = "";
  kills = 0;
  constructor(readonly db: string) {}

  async start(): Promise<void> {
    this.cli = startCli(["serve", fixture, "--host", "127.0.0.1", "--port", "0"], {
      env: { WORKFLOWS_DB: this.db },
    });
    running.push(this.cli);
    this.url = await this.cli.ready();
  }

  async kill(): Promise<void> {
    this.cli.child.kill("SIGKILL");
    expect((await this.cli.exited).signal).toBe("SIGKILL");
    this.kills++;
    await this.start();
  }

  /** One copy: its answer, or null when the connection failed (the server was killed under it). */
  async send(path: string, key: string, body?: unknown): Promise<Copy | null> {
    try {
      const res = await fetch(`${this.url}${path.slice(1)}`, {
        method: "POST",
        headers: { "idempotency-key": key, "content-type": "application/json" },
        body: JSON.stringify(body ?? {}),
      });
      return {
        status: res.status,
        text: await res.text(),
        replayed: res.headers.get("idempotent-replayed") === "true",
      };
    } catch {
      return null;
    }
  }
}

interface Done {
  plan: Plan;
  key: string;
  path: string;
  copies: Copy[];
}

/** Sends one logical request as planned; resolves once at least one copy was answered. */
async function execute(server: Server, p: Plan, key: string, path: string, body: unknown): Promise<Done> {
  const copies: Copy[] = [];
  const keep = (c: Copy | null) => {
    if (c) copies.push(c);
  };
  const first = server.send(path, key, body).then(keep);
  if (p.killInFlightAfterMs !== null) {
    await new Promise((resolve) => setTimeout(resolve, p.killInFlightAfterMs ?? 0));
    await server.kill();
  }
  await first;
  for (let i = 1; i <= p.retries; i++) {
    if (p.killBefore === i) await server.kill();
    keep(await server.send(path, key, body));
  }
  // Sent again until one copy was answered: a killed server is up again by now.
  while (copies.length === 0) keep(await server.send(path, key, body));
  return { plan: p, key, path, copies };
}

const json = (copy: Copy) => JSON.parse(copy.text) as Record<string, unknown>;

/** A handler's whole stream, internal events included (it has ended). */
async function stream(server: Server, id: string): Promise<Envelope[]> {
  for (;;) {
    const read = await readEvents(`${server.url}events/${id}?sse=false&include_internal=true`);
    if (read.ended) return read.events;
  }
}

describe("Idempotency-Key across SIGKILLs", { timeout: 600_000 }, () => {
  it("executes each logical request once and answers every copy alike", async () => {
    let seq = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(plan, { minLength: 3, maxLength: 9 }), async (plans) => {
        const dir = await tempDir("eventloom-idem-");
        cleanups.push(dir.cleanup);
        const server = new Server(join(dir.path, "w.db"));
        await server.start();
        const carts: string[] = [];
        const waiters: string[] = [];
        const done: Done[] = [];
        const itemsOf = new Map<string, number[]>();
        for (const p of plans) {
          const key = `k${seq++}`;
          const c = p.command;
          let d: Done;
          if (c.kind === "item" && carts.length > 0) {
            const cart = carts[c.cart % carts.length] as string;
            const n = seq;
            d = await execute(server, p, key, `/events/${cart}`, { event: { type: "Item", value: { n } } });
            if (d.copies[0]?.status === 200) itemsOf.set(cart, [...(itemsOf.get(cart) ?? []), n]);
          } else if (c.kind === "cancel" && waiters.length > 0) {
            d = await execute(
              server,
              p,
              key,
              `/handlers/${waiters[c.waiter % waiters.length]}/cancel`,
              undefined,
            );
          } else if (c.kind === "slow") {
            d = await execute(server, p, key, "/workflows/slow/run", {
              start_event: { n: seq, delayMs: c.delayMs },
            });
          } else {
            const workflow = c.kind === "waiter" || c.kind === "cancel" ? "ask" : "cart";
            d = await execute(server, p, key, `/workflows/${workflow}/run-nowait`, {});
            const id = json(d.copies[0] as Copy)["handler_id"] as string;
            (workflow === "ask" ? waiters : carts).push(id);
          }
          done.push(d);
        }

        // Every copy that got an answer got the same one; those after the first say they are replays.
        for (const d of done) {
          const [first, ...rest] = d.copies as [Copy, ...Copy[]];
          expect(first.status, `${d.path} ${d.key}`).toBeLessThan(500);
          for (const copy of rest) {
            expect({ status: copy.status, text: copy.text }, `${d.path} ${d.key}`).toEqual({
              status: first.status,
              text: first.text,
            });
            if (first.status === 200) expect(copy.replayed).toBe(true);
          }
        }

        // Each run request made one handler: the store holds exactly those the answers named.
        const named = done
          .filter((d) => d.path.startsWith("/workflows/"))
          .map((d) => json(d.copies[0] as Copy)["handler_id"] as string);
        const listed = (await (await fetch(`${server.url}handlers?limit=1000`)).json()) as {
          handlers: { handler_id: string; status: string }[];
        };
        expect(listed.handlers.map((h) => h.handler_id).sort()).toEqual([...named].sort());
        expect(new Set(named).size).toBe(named.length);

        // Each event acknowledged once was taken in once: one queue item per item, none twice.
        for (const cart of carts) {
          await fetch(`${server.url}events/${cart}`, {
            method: "POST",
            headers: { "content-type": "application/json" },
            body: JSON.stringify({ event: { type: "Checkout", value: {} } }),
          });
          const events = await stream(server, cart);
          const taken = new Set(
            events
              .filter((e) => e.type === "StepStateChanged" && e.value["step"] === "fill")
              .filter((e) => e.value["input_event"] === "Item")
              .map((e) => e.value["worker_id"]),
          );
          expect(taken.size, `items of cart ${cart}`).toBe(itemsOf.get(cart)?.length ?? 0);
        }

        // Each cancelled waiter is cancelled (once: a second cancel would be a 409, not a replay).
        for (const d of done.filter((x) => x.path.endsWith("/cancel"))) {
          const id = d.path.split("/")[2] as string;
          const record = listed.handlers.find((h) => h.handler_id === id);
          expect(record?.status).toBe("cancelled");
        }
        await server.cli.kill();
      }),
      { numRuns: Number(process.env["IDEMPOTENCY_RUNS"] ?? 3), endOnFailure: true },
    );
  });
});
