import net from "node:net";

interface Pair {
  client: net.Socket;
  /** Null for a connection accepted during a partition: it is connected upstream when healed. */
  upstream: net.Socket | null;
}

/**
 * A TCP proxy in front of a real server (PostgreSQL), to cut a client off in the ways networks fail:
 * `partition()` (bytes stop flowing, connections stay open, new ones hang) and `heal()` (everything
 * held flows again, as after a network partition that ends), `down()` (connections reset, new ones
 * refused) and `up()` again on the same port.
 */
export class TcpProxy {
  readonly #target: { host: string; port: number };
  readonly #sockets = new Set<net.Socket>();
  readonly #pairs = new Set<Pair>();
  #server: net.Server | null = null;
  #partitioned = false;
  port = 0;

  constructor(target: { host: string; port: number }) {
    this.#target = target;
  }

  /** Listens (again, on the same port after `down()`) and carries bytes. */
  async up(): Promise<void> {
    this.#partitioned = false;
    if (this.#server) return;
    const server = net.createServer((client) => {
      this.#sockets.add(client);
      const pair: Pair = { client, upstream: null };
      this.#pairs.add(pair);
      client.on("close", () => {
        this.#sockets.delete(client);
        this.#pairs.delete(pair);
      });
      client.on("error", () => client.destroy());
      if (this.#partitioned) {
        client.pause();
        return;
      }
      this.#connect(pair);
    });
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(this.port, "127.0.0.1", () => resolve());
    });
    this.port = (server.address() as net.AddressInfo).port;
    this.#server = server;
  }

  #connect(pair: Pair): void {
    const { client } = pair;
    const upstream = net.connect(this.#target.port, this.#target.host);
    pair.upstream = upstream;
    this.#sockets.add(upstream);
    upstream.on("close", () => this.#sockets.delete(upstream));
    for (const s of [client, upstream]) {
      s.on("error", () => {
        client.destroy();
        upstream.destroy();
      });
    }
    client.pipe(upstream).pipe(client);
  }

  /** Nothing flows any more, nothing is closed: open connections and new ones hang. */
  partition(): void {
    this.#partitioned = true;
    this.freezeOpen();
  }

  /** The partition ends: what the open connections held flows on, held new connections go through. */
  heal(): void {
    this.#partitioned = false;
    for (const pair of this.#pairs) {
      if (pair.client.destroyed) continue;
      if (pair.upstream === null) {
        this.#connect(pair);
        pair.client.resume();
        continue;
      }
      if (pair.upstream.destroyed) continue;
      pair.client.pipe(pair.upstream).pipe(pair.client);
      pair.client.resume();
      pair.upstream.resume();
    }
  }

  /** The open connections stop carrying bytes without closing (half-open); new ones still flow. */
  freezeOpen(): void {
    for (const s of this.#sockets) {
      s.unpipe();
      s.pause();
    }
  }

  /** The server is gone: open connections are reset, new ones refused. */
  async down(): Promise<void> {
    const server = this.#server;
    this.#server = null;
    for (const s of this.#sockets) s.destroy();
    this.#pairs.clear();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** `url` with its host and port replaced by the proxy's. */
  url(url: string): string {
    const u = new URL(url);
    u.hostname = "127.0.0.1";
    u.port = String(this.port);
    return u.toString();
  }
}
